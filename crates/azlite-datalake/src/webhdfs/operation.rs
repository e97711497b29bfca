//! A WebHDFS request parsed once into an [`Operation`] (reference §4.2): `op` and the other
//! parameter names in any letter case (the Python client sends `OP=`, curl users `op=`),
//! the method checked against the operation, every parameter validated before anything
//! is read or written.

use std::collections::HashMap;

use axum::http::Method;
use azlite_posix_acl::spec::{parse_removal_spec, parse_spec};
use azlite_posix_acl::{AclEntry, EntryKey, Mode, Perm};

use crate::error::DataLakeError;
use crate::path;

/// What the client wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// `GET LISTSTATUS`.
    ListStatus {
        /// `listSize`.
        list_size: Option<usize>,
        /// `listAfter` (the previous page's `continuationToken`).
        list_after: Option<String>,
    },
    /// `GET GETFILESTATUS`.
    GetFileStatus,
    /// `GET GETCONTENTSUMMARY`.
    GetContentSummary,
    /// `GET GETACLSTATUS` or `MSGETACLSTATUS`.
    GetAclStatus,
    /// `GET CHECKACCESS`.
    CheckAccess {
        /// `fsaction`.
        fsaction: Perm,
    },
    /// `GET OPEN`.
    Open {
        /// `offset`.
        offset: u64,
        /// `length`.
        length: Option<u64>,
        /// `read=true`: without it, the 307 of the curl flow.
        read: bool,
    },
    /// `PUT MKDIRS`.
    Mkdirs {
        /// `permission`.
        permission: Option<Mode>,
    },
    /// `PUT CREATE`.
    Create {
        /// `overwrite`.
        overwrite: bool,
        /// `permission`.
        permission: Option<Mode>,
        /// `write=true`: without it, the 307 of the curl flow.
        write: bool,
    },
    /// `POST APPEND`.
    Append {
        /// `offset`: must be the file's length.
        offset: Option<u64>,
    },
    /// `DELETE DELETE`.
    Delete {
        /// `recursive`.
        recursive: bool,
    },
    /// `PUT RENAME`.
    Rename {
        /// `destination`, absolute.
        destination: String,
    },
    /// `POST CONCAT`.
    Concat {
        /// `sources`, absolute.
        sources: Vec<String>,
    },
    /// `POST MSCONCAT` (sources in the JSON body).
    MsConcat {
        /// `deleteSourceDirectory`.
        delete_source_directory: bool,
    },
    /// `PUT SETPERMISSION`.
    SetPermission {
        /// `permission` (default `755`, as WebHDFS's).
        permission: Mode,
    },
    /// `PUT SETOWNER`.
    SetOwner {
        /// `owner`.
        owner: Option<String>,
        /// `group`.
        group: Option<String>,
    },
    /// `PUT SETACL`.
    SetAcl(Vec<AclEntry>),
    /// `PUT MODIFYACLENTRIES`.
    ModifyAclEntries(Vec<AclEntry>),
    /// `PUT REMOVEACLENTRIES`.
    RemoveAclEntries(Vec<EntryKey>),
    /// `PUT REMOVEDEFAULTACL`.
    RemoveDefaultAcl,
    /// `PUT REMOVEACL`.
    RemoveAcl,
}

impl Operation {
    /// The operation's name in Gen1's error messages.
    pub fn name(&self) -> &'static str {
        match self {
            Operation::ListStatus { .. } => "LISTSTATUS",
            Operation::GetFileStatus => "GETFILESTATUS",
            Operation::GetContentSummary => "GETCONTENTSUMMARY",
            Operation::GetAclStatus => "GETACLSTATUS",
            Operation::CheckAccess { .. } => "CHECKACCESS",
            Operation::Open { .. } => "OPEN",
            Operation::Mkdirs { .. } => "MKDIRS",
            Operation::Create { .. } => "CREATE",
            Operation::Append { .. } => "APPEND",
            Operation::Delete { .. } => "DELETE",
            Operation::Rename { .. } => "RENAME",
            Operation::Concat { .. } => "CONCAT",
            Operation::MsConcat { .. } => "MSCONCAT",
            Operation::SetPermission { .. } => "SETPERMISSION",
            Operation::SetOwner { .. } => "SETOWNER",
            Operation::SetAcl(_) => "SETACL",
            Operation::ModifyAclEntries(_) => "MODIFYACLENTRIES",
            Operation::RemoveAclEntries(_) => "REMOVEACLENTRIES",
            Operation::RemoveDefaultAcl => "REMOVEDEFAULTACL",
            Operation::RemoveAcl => "REMOVEACL",
        }
    }
}

/// The query's parameters, names in lower case (the first value of a name wins).
#[derive(Debug, Default)]
pub struct Params(HashMap<String, String>);

impl Params {
    /// Parses a query string.
    pub fn parse(query: Option<&str>) -> Params {
        let mut map = HashMap::new();
        for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            map.entry(name.to_ascii_lowercase())
                .or_insert_with(|| value.into_owned());
        }
        Params(map)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    fn bool(&self, name: &str, default: bool) -> Result<bool, DataLakeError> {
        match self.get(name) {
            None | Some("") => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(invalid(name, v)),
        }
    }

    fn number(&self, name: &str) -> Result<Option<u64>, DataLakeError> {
        self.get(name)
            .filter(|v| !v.is_empty())
            .map(|v| v.parse().map_err(|_| invalid(name, v)))
            .transpose()
    }

    fn mode(&self, name: &str) -> Result<Option<Mode>, DataLakeError> {
        self.get(name)
            .filter(|v| !v.is_empty())
            .map(|v| Mode::parse_octal(v).map_err(|_| invalid(name, v)))
            .transpose()
    }

    fn required(&self, name: &str) -> Result<&str, DataLakeError> {
        self.get(name).filter(|v| !v.is_empty()).ok_or_else(|| {
            DataLakeError::illegal_argument(format!("The parameter '{name}' is required."))
        })
    }

    fn absolute_path(&self, name: &str, value: &str) -> Result<String, DataLakeError> {
        path::normalize(value).map_err(|_| invalid(name, value))
    }
}

fn invalid(name: &str, value: &str) -> DataLakeError {
    DataLakeError::illegal_argument(format!(
        "Invalid value for webhdfs parameter \"{name}\": {value}"
    ))
}

/// Parses `method` and `params` into an operation.
pub fn parse(method: &Method, params: &Params) -> Result<Operation, DataLakeError> {
    let op = params.required("op")?.to_ascii_uppercase();
    let expected = match op.as_str() {
        "LISTSTATUS" | "GETFILESTATUS" | "GETCONTENTSUMMARY" | "GETACLSTATUS"
        | "MSGETACLSTATUS" | "CHECKACCESS" | "OPEN" => Method::GET,
        "MKDIRS" | "CREATE" | "RENAME" | "SETPERMISSION" | "SETOWNER" | "SETACL"
        | "MODIFYACLENTRIES" | "REMOVEACLENTRIES" | "REMOVEDEFAULTACL" | "REMOVEACL" => Method::PUT,
        "APPEND" | "CONCAT" | "MSCONCAT" => Method::POST,
        "DELETE" => Method::DELETE,
        _ => return Err(invalid("op", &op)),
    };
    if *method != expected {
        return Err(DataLakeError::illegal_argument(format!(
            "Invalid value for webhdfs parameter \"op\": {op} is a {expected} operation, not {method}"
        )));
    }
    let spec = || {
        parse_spec(params.required("aclspec")?)
            .map_err(|e| DataLakeError::illegal_argument(e.to_string()))
    };
    Ok(match op.as_str() {
        "LISTSTATUS" => Operation::ListStatus {
            list_size: params
                .number("listsize")?
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
            list_after: params
                .get("listafter")
                .filter(|v| !v.is_empty())
                .map(str::to_owned),
        },
        "GETFILESTATUS" => Operation::GetFileStatus,
        "GETCONTENTSUMMARY" => Operation::GetContentSummary,
        "GETACLSTATUS" | "MSGETACLSTATUS" => Operation::GetAclStatus,
        "CHECKACCESS" => {
            let value = params.required("fsaction")?;
            Operation::CheckAccess {
                fsaction: Perm::parse_symbolic(value).map_err(|_| invalid("fsaction", value))?,
            }
        }
        "OPEN" => Operation::Open {
            offset: params.number("offset")?.unwrap_or(0),
            length: params.number("length")?,
            read: params.bool("read", false)?,
        },
        "MKDIRS" => Operation::Mkdirs {
            permission: params.mode("permission")?,
        },
        "CREATE" => {
            if let Some(flag) = params.get("syncflag") {
                sync_flag(flag)?;
            }
            Operation::Create {
                overwrite: params.bool("overwrite", false)?,
                permission: params.mode("permission")?,
                write: params.bool("write", false)?,
            }
        }
        "APPEND" => {
            if let Some(flag) = params.get("syncflag") {
                sync_flag(flag)?;
            }
            Operation::Append {
                offset: params.number("offset")?,
            }
        }
        "DELETE" => Operation::Delete {
            recursive: params.bool("recursive", false)?,
        },
        "RENAME" => {
            let value = params.required("destination")?;
            Operation::Rename {
                destination: params.absolute_path("destination", value)?,
            }
        }
        "CONCAT" => {
            let value = params.required("sources")?;
            Operation::Concat {
                sources: value
                    .split(',')
                    .map(|s| params.absolute_path("sources", s))
                    .collect::<Result<_, _>>()?,
            }
        }
        "MSCONCAT" => Operation::MsConcat {
            delete_source_directory: params.bool("deletesourcedirectory", false)?,
        },
        "SETPERMISSION" => Operation::SetPermission {
            permission: params.mode("permission")?.unwrap_or(Mode::from_bits(0o755)),
        },
        "SETOWNER" => {
            let owner = params
                .get("owner")
                .filter(|v| !v.is_empty())
                .map(str::to_owned);
            let group = params
                .get("group")
                .filter(|v| !v.is_empty())
                .map(str::to_owned);
            if owner.is_none() && group.is_none() {
                return Err(DataLakeError::illegal_argument(
                    "SETOWNER needs an owner or a group.",
                ));
            }
            Operation::SetOwner { owner, group }
        }
        "SETACL" => Operation::SetAcl(spec()?),
        "MODIFYACLENTRIES" => Operation::ModifyAclEntries(spec()?),
        "REMOVEACLENTRIES" => Operation::RemoveAclEntries(
            parse_removal_spec(params.required("aclspec")?)
                .map_err(|e| DataLakeError::illegal_argument(e.to_string()))?,
        ),
        "REMOVEDEFAULTACL" => Operation::RemoveDefaultAcl,
        _ => Operation::RemoveAcl,
    })
}

/// `syncFlag`: DATA, METADATA or CLOSE. azlite makes every write durable before answering,
/// so the three differ in nothing but validation.
fn sync_flag(value: &str) -> Result<(), DataLakeError> {
    match value.to_ascii_uppercase().as_str() {
        "DATA" | "METADATA" | "CLOSE" => Ok(()),
        _ => Err(invalid("syncFlag", value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(method: Method, query: &str) -> Result<Operation, DataLakeError> {
        parse(&method, &Params::parse(Some(query)))
    }

    #[test]
    fn op_and_names_in_any_case() {
        assert_eq!(
            op(Method::GET, "op=LISTSTATUS").unwrap(),
            Operation::ListStatus {
                list_size: None,
                list_after: None
            }
        );
        assert_eq!(
            op(
                Method::GET,
                "OP=liststatus&listSize=4000&listAfter=b&api-version=2018-09-01"
            )
            .unwrap(),
            Operation::ListStatus {
                list_size: Some(4000),
                list_after: Some("b".into())
            }
        );
        assert_eq!(
            op(
                Method::PUT,
                "op=CREATE&overwrite=true&write=true&syncFlag=DATA&leaseid=x&filesessionid=y"
            )
            .unwrap(),
            Operation::Create {
                overwrite: true,
                permission: None,
                write: true
            }
        );
        assert_eq!(
            op(Method::DELETE, "OP=DELETE&recursive=True").unwrap(),
            Operation::Delete { recursive: true }
        );
        assert_eq!(
            op(Method::PUT, "OP=RENAME&destination=dir%2Ffoo").unwrap(),
            Operation::Rename {
                destination: "/dir/foo".into()
            }
        );
    }

    #[test]
    fn bad_requests_are_refused_before_anything_runs() {
        for (method, query) in [
            (Method::GET, ""),
            (Method::GET, "op=NOPE"),
            (Method::PUT, "op=LISTSTATUS"),
            (Method::GET, "op=OPEN&offset=-1"),
            (Method::PUT, "op=CREATE&overwrite=maybe"),
            (Method::POST, "op=APPEND&syncFlag=LATER"),
            (Method::PUT, "op=SETPERMISSION&permission=999"),
            (Method::PUT, "op=SETACL&aclspec=user::rwz"),
            (Method::PUT, "op=SETOWNER"),
            (Method::GET, "op=CHECKACCESS&fsaction=rw"),
            (Method::PUT, "op=RENAME&destination=/a/../b"),
        ] {
            let e = op(method, query).unwrap_err();
            assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST, "{query}");
            assert_eq!(e.exception, "IllegalArgumentException");
        }
    }
}
