//! The sandbox socket's header lines, and the answer to `hello`.

/// The first word of every header line.
pub const MAGIC: &str = "AZLITE-SANDBOX/2";

/// The endpoint a sandboxed program dialled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// IMDS: 169.254.169.254:80.
    Imds,
    /// The VM extension / Cloud Shell endpoint: 127.0.0.1:50342.
    Extension,
    /// Azure Arc's HIMDS: 127.0.0.1:40342.
    Arc,
    /// Port 443 of one of Azure's host names: TLS to the main listener's services.
    Https,
}

impl Endpoint {
    /// The word on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Imds => "imds",
            Self::Extension => "extension",
            Self::Arc => "arc",
            Self::Https => "https",
        }
    }

    fn parse(word: &str) -> Option<Self> {
        [Self::Imds, Self::Extension, Self::Arc, Self::Https]
            .into_iter()
            .find(|e| e.as_str() == word)
    }
}

/// A header line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Header {
    /// Open a session for a VM (named by name, `group/name` or id); the server answers one
    /// line, then keeps the connection: the session lasts until the client closes it.
    Hello {
        /// The VM as the user named it.
        vm: String,
    },
    /// Carry a connection to `endpoint` of the session's VM.
    Connect {
        /// What the program dialled.
        endpoint: Endpoint,
        /// The session's secret, as `hello` answered it.
        session: String,
    },
}

impl Header {
    /// The line, newline included.
    pub fn encode(&self) -> String {
        match self {
            Self::Hello { vm } => format!("{MAGIC} hello {vm}\n"),
            Self::Connect { endpoint, session } => {
                format!("{MAGIC} connect {} {session}\n", endpoint.as_str())
            }
        }
    }

    /// Parses a line (without its newline).
    pub fn parse(line: &str) -> Option<Self> {
        let mut words = line.split(' ');
        if words.next()? != MAGIC {
            return None;
        }
        let header = match (words.next()?, words.next()?, words.next()) {
            ("hello", vm, None) if !vm.is_empty() => Self::Hello { vm: vm.to_owned() },
            ("connect", endpoint, Some(session)) if !session.is_empty() => Self::Connect {
                endpoint: Endpoint::parse(endpoint)?,
                session: session.to_owned(),
            },
            _ => return None,
        };
        words.next().is_none().then_some(header)
    }
}

/// The answer to `hello`: the VM, the names the sandbox must resolve to the server, and the
/// session's secret.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HelloReply {
    /// The VM's ARM id.
    pub vm: String,
    /// Host names served on port 443 (Entra's, ARM's, Graph's).
    pub hosts: Vec<String>,
    /// Suffixes under which every one-label name is served (`<vault>.vault.azure.net`).
    pub suffixes: Vec<String>,
    /// The secret that names this session in `connect`: only its holder speaks for the VM.
    pub session: String,
}

impl std::fmt::Debug for HelloReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HelloReply")
            .field("vm", &self.vm)
            .field("hosts", &self.hosts)
            .field("suffixes", &self.suffixes)
            .field("session", &"<secret>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip() {
        let vm = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/v";
        for header in [
            Header::Hello {
                vm: "demo-vm".into(),
            },
            Header::Hello { vm: vm.into() },
            Header::Connect {
                endpoint: Endpoint::Imds,
                session: "0123abcd".into(),
            },
            Header::Connect {
                endpoint: Endpoint::Https,
                session: "0123abcd".into(),
            },
        ] {
            let line = header.encode();
            assert_eq!(Header::parse(line.trim_end()), Some(header), "{line}");
        }
    }

    #[test]
    fn malformed_headers_are_refused() {
        for line in [
            "",
            "GET / HTTP/1.1",
            "AZLITE-SANDBOX/1 hello vm",
            "AZLITE-SANDBOX/1 connect imds /subscriptions/x",
            "AZLITE-SANDBOX/3 hello vm",
            "AZLITE-SANDBOX/2 hello",
            "AZLITE-SANDBOX/2 hello a b",
            "AZLITE-SANDBOX/2 connect ftp secret",
            "AZLITE-SANDBOX/2 connect imds",
            "AZLITE-SANDBOX/2 connect imds  ",
            "AZLITE-SANDBOX/2 connect imds secret extra",
        ] {
            assert_eq!(Header::parse(line), None, "{line:?}");
        }
    }

    #[test]
    fn the_secret_stays_out_of_debug_output() {
        let reply = HelloReply {
            vm: "/subscriptions/s".into(),
            hosts: vec![],
            suffixes: vec![],
            session: "s3cr3t".into(),
        };
        assert!(!format!("{reply:?}").contains("s3cr3t"));
    }
}
