//! The string-to-sign of each SAS kind, by signed version. One implementation for both
//! directions: ARM signs with it and Blob verifies with it.
//!
//! Sources: "Create a service SAS", "Create an account SAS", "Create a user delegation SAS"
//! (learn.microsoft.com, rest/api/storageservices), checked against the SDKs that produce
//! the vectors in `testdata/` (azure-storage 0.36 for 2017-04-17, azure-storage-blob 2.1 for
//! 2019-02-02, azure-storage-blob 12.31 for 2026-10-06). Missing fields are empty lines.
//!
//! Service SAS (`sp st se cr` then):
//! * 2015-04-05 …: `si sip spr sv rscc rscd rsce rscl rsct`
//! * 2018-11-09 …: `si sip spr sv sr snapshotTime rscc …`
//! * 2020-12-06 …: `si sip spr sv sr snapshotTime ses rscc …`
//!
//! User delegation SAS (`sp st se cr skoid sktid skt ske sks skv` then):
//! * 2018-11-09 …: `sip spr sv sr snapshotTime rscc …`
//! * 2020-02-10 …: `saoid suoid scid sip spr sv sr snapshotTime rscc …`
//! * 2020-12-06 …: `saoid suoid scid sip spr sv sr snapshotTime ses rscc …`
//! * 2025-07-05 …: `saoid suoid scid skdutid sduoid sip spr sv sr snapshotTime ses rscc …`
//! * 2026-04-06 …: as above, then the signed request headers (`k:v\n` each) and signed
//!   query parameters (`\nk:v` each) as two more entries before `rscc`.
//!
//! Account SAS: `account sp ss srt st se sip spr sv`, plus `ses` from 2020-12-06, each line
//! ending in `\n` (so the string ends with one).

use crate::sas::SasFields;
use crate::version::ServiceVersion as V;

fn field(f: &Option<String>) -> &str {
    f.as_deref().unwrap_or("")
}

fn response_overrides<'a>(f: &'a SasFields, lines: &mut Vec<&'a str>) {
    lines.extend([
        field(&f.cache_control),
        field(&f.content_disposition),
        field(&f.content_encoding),
        field(&f.content_language),
        field(&f.content_type),
    ]);
}

/// A service SAS signed with an account key. `canonical_resource` is
/// `/blob/<account>/<container>[/<blob>]`.
pub fn service(f: &SasFields, canonical_resource: &str, snapshot_time: &str, v: V) -> String {
    let mut lines = vec![
        field(&f.permissions),
        field(&f.start),
        field(&f.expiry),
        canonical_resource,
        field(&f.identifier),
        field(&f.ip),
        field(&f.protocol),
        field(&f.version),
    ];
    if v >= V::V2018_11_09 {
        lines.extend([field(&f.resource), snapshot_time]);
    }
    if v >= V::V2020_12_06 {
        lines.push(field(&f.encryption_scope));
    }
    response_overrides(f, &mut lines);
    lines.join("\n")
}

/// A user delegation SAS, signed with the key's value. `signed_headers` and `signed_query`
/// are the values of the headers and query parameters that `srh`/`srq` name (2026-04-06).
pub fn user_delegation(
    f: &SasFields,
    canonical_resource: &str,
    snapshot_time: &str,
    signed_headers: &[(&str, &str)],
    signed_query: &[(&str, &str)],
    v: V,
) -> String {
    let mut lines = vec![
        field(&f.permissions),
        field(&f.start),
        field(&f.expiry),
        canonical_resource,
        field(&f.key_object_id),
        field(&f.key_tenant_id),
        field(&f.key_start),
        field(&f.key_expiry),
        field(&f.key_service),
        field(&f.key_version),
    ];
    if v >= V::V2020_02_10 {
        lines.extend([
            field(&f.authorized_object_id),
            field(&f.unauthorized_object_id),
            field(&f.correlation_id),
        ]);
    }
    if v >= V::V2025_07_05 {
        lines.extend([
            field(&f.key_delegated_user_tenant_id),
            field(&f.delegated_user_object_id),
        ]);
    }
    lines.extend([
        field(&f.ip),
        field(&f.protocol),
        field(&f.version),
        field(&f.resource),
        snapshot_time,
    ]);
    if v >= V::V2020_12_06 {
        lines.push(field(&f.encryption_scope));
    }
    // Built outside `lines` because they borrow new strings.
    let (headers_entry, query_entry) = if v >= V::V2026_04_06 {
        let mut headers = String::new();
        for (k, val) in signed_headers {
            headers.push_str(&format!("{k}:{val}\n"));
        }
        let mut query = String::new();
        for (k, val) in signed_query {
            query.push_str(&format!("\n{k}:{val}"));
        }
        (Some(headers), Some(query))
    } else {
        (None, None)
    };
    if let (Some(h), Some(q)) = (&headers_entry, &query_entry) {
        lines.extend([h.as_str(), q.as_str()]);
    }
    response_overrides(f, &mut lines);
    lines.join("\n")
}

/// An account SAS for `account`, signed with an account key.
pub fn account(f: &SasFields, account: &str, v: V) -> String {
    let mut lines = vec![
        account,
        field(&f.permissions),
        field(&f.services),
        field(&f.resource_types),
        field(&f.start),
        field(&f.expiry),
        field(&f.ip),
        field(&f.protocol),
        field(&f.version),
    ];
    if v >= V::V2020_12_06 {
        lines.push(field(&f.encryption_scope));
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tutorial_service_sas_layout() {
        // ARM's listServiceSas in the tutorial: sv=2015-04-05&sr=c&spr=https&st=…&se=…&sp=rcw.
        let f = SasFields {
            version: Some("2015-04-05".into()),
            resource: Some("c".into()),
            protocol: Some("https".into()),
            start: Some("2017-09-22T00:10:00Z".into()),
            expiry: Some("2017-09-22T02:00:00Z".into()),
            permissions: Some("rcw".into()),
            ..Default::default()
        };
        assert_eq!(
            service(&f, "/blob/acct/cont", "", V::V2015_04_05),
            "rcw\n2017-09-22T00:10:00Z\n2017-09-22T02:00:00Z\n/blob/acct/cont\n\n\nhttps\n2015-04-05\n\n\n\n\n"
        );
    }

    #[test]
    fn account_layout_ends_with_a_newline() {
        let f = SasFields {
            version: Some("2020-12-06".into()),
            services: Some("b".into()),
            resource_types: Some("sco".into()),
            permissions: Some("rl".into()),
            expiry: Some("2030-01-01".into()),
            ..Default::default()
        };
        assert_eq!(
            account(&f, "acct", V::V2020_12_06),
            "acct\nrl\nb\nsco\n\n2030-01-01\n\n\n2020-12-06\n\n"
        );
    }
}
