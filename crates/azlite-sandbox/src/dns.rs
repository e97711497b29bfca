//! The sandbox's resolver, on 127.0.0.1:53 (UDP): `A` queries for a name azlite serves get
//! 127.0.0.1, other types for those names an empty answer (so clients fall back to `A`),
//! and every other name `NXDOMAIN`. `/etc/hosts` already holds the fixed names; this answers
//! the names made later (`<vault>.vault.azure.net` for a vault created after the sandbox
//! started).

use std::net::Ipv4Addr;
use std::sync::Arc;

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{RData, Record, RecordType};
use tokio::net::UdpSocket;

/// How long clients may cache an answer, in seconds.
const TTL: u32 = 60;

/// The names the resolver knows.
#[derive(Debug, Clone)]
pub(crate) struct Zone {
    /// Exact names, lower case, without the final dot.
    hosts: Vec<String>,
    /// Suffixes under which any one-label name is known, lower case.
    suffixes: Vec<String>,
}

impl Zone {
    pub(crate) fn new(hosts: &[String], suffixes: &[String]) -> Self {
        let fold = |names: &[String]| {
            names
                .iter()
                .map(|n| n.trim_end_matches('.').to_ascii_lowercase())
                .collect()
        };
        Self {
            hosts: fold(hosts),
            suffixes: fold(suffixes),
        }
    }

    /// Whether `name` (any case, final dot or not) is served by azlite.
    pub(crate) fn knows(&self, name: &str) -> bool {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        self.hosts.contains(&name)
            || self.suffixes.iter().any(|suffix| {
                name.strip_suffix(suffix.as_str())
                    .and_then(|label| label.strip_suffix('.'))
                    .is_some_and(|label| !label.is_empty() && !label.contains('.'))
            })
    }

    /// The answer to the query in `packet`, or `None` for what is not a query.
    pub(crate) fn answer(&self, packet: &[u8]) -> Option<Vec<u8>> {
        let query = Message::from_vec(packet).ok()?;
        if query.metadata.message_type != MessageType::Query {
            return None;
        }
        let mut response = Message::response(query.metadata.id, query.metadata.op_code);
        response.metadata.recursion_desired = query.metadata.recursion_desired;
        response.metadata.recursion_available = true;
        response.metadata.authoritative = true;
        let [question] = query.queries.as_slice() else {
            response.metadata.response_code = ResponseCode::FormErr;
            return response.to_vec().ok();
        };
        response.add_query(question.clone());
        if query.metadata.op_code != OpCode::Query {
            response.metadata.response_code = ResponseCode::NotImp;
        } else if !self.knows(&question.name().to_ascii()) {
            response.metadata.response_code = ResponseCode::NXDomain;
        } else if question.query_type() == RecordType::A {
            let rdata = RData::A(A(Ipv4Addr::LOCALHOST));
            response.add_answer(Record::from_rdata(question.name().clone(), TTL, rdata));
        }
        response.to_vec().ok()
    }
}

/// Answers queries on `socket` until the task is dropped.
pub(crate) async fn serve(socket: UdpSocket, zone: Arc<Zone>) {
    let mut buffer = vec![0u8; 1500];
    loop {
        let Ok((len, peer)) = socket.recv_from(&mut buffer).await else {
            continue;
        };
        if let Some(answer) = zone.answer(&buffer[..len]) {
            let _ = socket.send_to(&answer, peer).await;
        }
    }
}

/// A name as DNS text, for tests.
#[cfg(test)]
fn name(text: &str) -> hickory_proto::rr::Name {
    hickory_proto::rr::Name::from_ascii(text).expect("a DNS name")
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::Query;

    fn zone() -> Zone {
        Zone::new(
            &[
                "login.microsoftonline.com".into(),
                "management.azure.com".into(),
            ],
            &["vault.azure.net".into(), "blob.core.windows.net".into()],
        )
    }

    fn ask(zone: &Zone, text: &str, record_type: RecordType) -> Message {
        let mut query = Message::query();
        query.metadata.recursion_desired = true;
        query.add_query(Query::query(name(text), record_type));
        let answer = zone.answer(&query.to_vec().unwrap()).expect("an answer");
        let answer = Message::from_vec(&answer).unwrap();
        assert_eq!(answer.metadata.id, query.metadata.id);
        assert_eq!(answer.metadata.message_type, MessageType::Response);
        answer
    }

    #[test]
    fn served_names_resolve_to_loopback() {
        let zone = zone();
        for text in [
            "management.azure.com.",
            "LOGIN.microsoftonline.com",
            "myvault.vault.azure.net.",
            "acct.blob.core.windows.net",
        ] {
            let answer = ask(&zone, text, RecordType::A);
            assert_eq!(
                answer.metadata.response_code,
                ResponseCode::NoError,
                "{text}"
            );
            let addresses: Vec<_> = answer.answers.iter().map(|r| r.data.clone()).collect();
            assert_eq!(addresses, vec![RData::A(A(Ipv4Addr::LOCALHOST))], "{text}");
        }
    }

    #[test]
    fn aaaa_for_a_served_name_is_empty_not_an_error() {
        let answer = ask(&zone(), "myvault.vault.azure.net", RecordType::AAAA);
        assert_eq!(answer.metadata.response_code, ResponseCode::NoError);
        assert!(answer.answers.is_empty());
    }

    #[test]
    fn other_names_do_not_exist() {
        let zone = zone();
        for text in [
            "example.com",
            "vault.azure.net",
            "a.b.vault.azure.net",
            "evilvault.azure.net",
            "azure.com",
        ] {
            let answer = ask(&zone, text, RecordType::A);
            assert_eq!(
                answer.metadata.response_code,
                ResponseCode::NXDomain,
                "{text}"
            );
            assert!(answer.answers.is_empty(), "{text}");
        }
    }

    #[test]
    fn garbage_gets_no_answer() {
        assert_eq!(zone().answer(b"\x00\x01"), None);
    }
}
