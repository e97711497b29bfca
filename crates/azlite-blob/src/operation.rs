//! Every request parsed once into the REST operation it is (by method, `restype`, `comp`
//! and a few headers), named as Azure's Blob REST reference names them.

use axum::http::{HeaderMap, Method, StatusCode};

use crate::BlobError;
use crate::request::Query;
use crate::wire::header;

/// A Blob service operation with the container and blob it addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// `GET /?comp=list`.
    ListContainers,
    /// `GET /?restype=service&comp=properties`.
    GetServiceProperties,
    /// `PUT /?restype=service&comp=properties`.
    SetServiceProperties,
    /// `GET|HEAD …?restype=account&comp=properties` (on any path).
    GetAccountInformation,
    /// `POST /?restype=service&comp=userdelegationkey`.
    GetUserDelegationKey,
    /// `PUT /c?restype=container`.
    CreateContainer(String),
    /// `GET|HEAD /c?restype=container`.
    GetContainerProperties(String),
    /// `DELETE /c?restype=container`.
    DeleteContainer(String),
    /// `GET|HEAD /c?restype=container&comp=metadata`.
    GetContainerMetadata(String),
    /// `PUT /c?restype=container&comp=metadata`.
    SetContainerMetadata(String),
    /// `PUT /c?restype=container&comp=lease`.
    LeaseContainer(String),
    /// `GET /c?restype=container&comp=list`.
    ListBlobs(String),
    /// `PUT /c/b` with `x-ms-blob-type: BlockBlob`.
    PutBlob(String, String),
    /// `PUT /c/b` with `x-ms-blob-type: AppendBlob`.
    CreateAppendBlob(String, String),
    /// `PUT /c/b` with `x-ms-copy-source`.
    CopyBlob(String, String),
    /// `PUT /c/b?comp=block&blockid=…`.
    PutBlock(String, String),
    /// `PUT /c/b?comp=blocklist`.
    PutBlockList(String, String),
    /// `GET /c/b?comp=blocklist`.
    GetBlockList(String, String),
    /// `PUT /c/b?comp=appendblock`.
    AppendBlock(String, String),
    /// `GET /c/b`.
    GetBlob(String, String),
    /// `HEAD /c/b`.
    GetBlobProperties(String, String),
    /// `GET|HEAD /c/b?comp=metadata`.
    GetBlobMetadata(String, String),
    /// `PUT /c/b?comp=properties`.
    SetBlobProperties(String, String),
    /// `PUT /c/b?comp=metadata`.
    SetBlobMetadata(String, String),
    /// `DELETE /c/b`.
    DeleteBlob(String, String),
    /// `PUT /c/b?comp=lease`.
    LeaseBlob(String, String),
}

/// What azlite does not serve, answered with the error Azure gives a request it does not
/// support (docs/protocols/blob.md lists them).
fn unsupported_query(name: &str, value: &str) -> BlobError {
    BlobError::new(
        StatusCode::BAD_REQUEST,
        "UnsupportedQueryParameter",
        "One of the query parameters specified in the request URI is not supported.",
    )
    .with_detail("QueryParameterName", name)
    .with_detail("QueryParameterValue", value)
}

fn unsupported_header(name: &str, value: &str) -> BlobError {
    BlobError::new(
        StatusCode::BAD_REQUEST,
        "UnsupportedHeader",
        "One of the HTTP headers specified in the request is not supported.",
    )
    .with_detail("HeaderName", name)
    .with_detail("HeaderValue", value)
}

fn unsupported_method() -> BlobError {
    BlobError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "UnsupportedHttpVerb",
        "The resource doesn't support specified Http Verb.",
    )
}

/// Parses a request into its operation.
pub fn parse(
    method: &Method,
    container: Option<String>,
    blob: Option<String>,
    query: &Query,
    headers: &HeaderMap,
) -> Result<Operation, BlobError> {
    use Operation as O;
    let restype = query.get("restype").map(str::to_ascii_lowercase);
    let comp = query.get("comp").map(str::to_ascii_lowercase);
    let (get, head, put, delete, post) = (
        method == Method::GET,
        method == Method::HEAD,
        method == Method::PUT,
        method == Method::DELETE,
        method == Method::POST,
    );
    let read = get || head;
    for name in ["snapshot", "versionid"] {
        if let Some(value) = query.get(name) {
            return Err(unsupported_query(name, value));
        }
    }
    if restype.as_deref() == Some("account") && comp.as_deref() == Some("properties") && read {
        return Ok(O::GetAccountInformation);
    }
    match (container, blob) {
        (None, _) => match (restype.as_deref(), comp.as_deref()) {
            (_, Some("list")) if get => Ok(O::ListContainers),
            (Some("service"), Some("properties")) if get => Ok(O::GetServiceProperties),
            (Some("service"), Some("properties")) if put => Ok(O::SetServiceProperties),
            (Some("service"), Some("userdelegationkey")) if post => Ok(O::GetUserDelegationKey),
            (_, Some(other)) => Err(unsupported_query("comp", other)),
            _ => Err(unsupported_method()),
        },
        (Some(c), None) if restype.as_deref() == Some("container") => match comp.as_deref() {
            None if put => Ok(O::CreateContainer(c)),
            None if read => Ok(O::GetContainerProperties(c)),
            None if delete => Ok(O::DeleteContainer(c)),
            Some("metadata") if read => Ok(O::GetContainerMetadata(c)),
            Some("metadata") if put => Ok(O::SetContainerMetadata(c)),
            Some("lease") if put => Ok(O::LeaseContainer(c)),
            Some("list") if get => Ok(O::ListBlobs(c)),
            Some(other) => Err(unsupported_query("comp", other)),
            None => Err(unsupported_method()),
        },
        (Some(_), None) => match restype.as_deref() {
            Some(other) => Err(BlobError::invalid_query("restype", other)),
            // A blob URL without a blob name: Azure answers a read as for a missing blob.
            None if read || put || delete => Err(BlobError::invalid_query("restype", "")),
            None => Err(unsupported_method()),
        },
        (Some(c), Some(b)) => match comp.as_deref() {
            None if put => {
                if header(headers, "x-ms-copy-source").is_some() {
                    return Ok(O::CopyBlob(c, b));
                }
                match header(headers, "x-ms-blob-type") {
                    Some("BlockBlob") => Ok(O::PutBlob(c, b)),
                    Some("AppendBlob") => Ok(O::CreateAppendBlob(c, b)),
                    Some(other @ "PageBlob") => Err(unsupported_header("x-ms-blob-type", other)),
                    Some(other) => Err(BlobError::invalid_header("x-ms-blob-type", other)),
                    None => Err(BlobError::missing_header("x-ms-blob-type")),
                }
            }
            None if get => Ok(O::GetBlob(c, b)),
            None if head => Ok(O::GetBlobProperties(c, b)),
            None if delete => Ok(O::DeleteBlob(c, b)),
            Some("block") if put => Ok(O::PutBlock(c, b)),
            Some("blocklist") if put => Ok(O::PutBlockList(c, b)),
            Some("blocklist") if get => Ok(O::GetBlockList(c, b)),
            Some("appendblock") if put => Ok(O::AppendBlock(c, b)),
            Some("metadata") if read => Ok(O::GetBlobMetadata(c, b)),
            Some("metadata") if put => Ok(O::SetBlobMetadata(c, b)),
            Some("properties") if put => Ok(O::SetBlobProperties(c, b)),
            Some("lease") if put => Ok(O::LeaseBlob(c, b)),
            Some(other) => Err(unsupported_query("comp", other)),
            None => Err(unsupported_method()),
        },
    }
}

impl Operation {
    /// The container the operation addresses.
    pub fn container(&self) -> Option<&str> {
        use Operation as O;
        match self {
            O::ListContainers | O::GetServiceProperties | O::SetServiceProperties => None,
            O::GetAccountInformation | O::GetUserDelegationKey => None,
            O::CreateContainer(c)
            | O::GetContainerProperties(c)
            | O::DeleteContainer(c)
            | O::GetContainerMetadata(c)
            | O::SetContainerMetadata(c)
            | O::LeaseContainer(c)
            | O::ListBlobs(c) => Some(c),
            O::PutBlob(c, _)
            | O::CreateAppendBlob(c, _)
            | O::CopyBlob(c, _)
            | O::PutBlock(c, _)
            | O::PutBlockList(c, _)
            | O::GetBlockList(c, _)
            | O::AppendBlock(c, _)
            | O::GetBlob(c, _)
            | O::GetBlobProperties(c, _)
            | O::GetBlobMetadata(c, _)
            | O::SetBlobProperties(c, _)
            | O::SetBlobMetadata(c, _)
            | O::DeleteBlob(c, _)
            | O::LeaseBlob(c, _) => Some(c),
        }
    }

    /// Whether the operation reads a request body (the rest never touch it).
    pub fn reads_body(&self) -> bool {
        use Operation as O;
        matches!(
            self,
            O::SetServiceProperties
                | O::GetUserDelegationKey
                | O::PutBlob(..)
                | O::PutBlock(..)
                | O::PutBlockList(..)
                | O::AppendBlock(..)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn op(
        method: Method,
        path: &str,
        query: &str,
        blob_type: Option<&'static str>,
    ) -> Result<Operation, BlobError> {
        let (c, b) = crate::request::split_path(path, false);
        let mut headers = HeaderMap::new();
        if let Some(t) = blob_type {
            headers.insert("x-ms-blob-type", HeaderValue::from_static(t));
        }
        parse(&method, c, b, &Query::parse(Some(query)), &headers)
    }

    #[test]
    fn operations_by_method_restype_and_comp() {
        use Operation as O;
        let s = |t: &str| t.to_owned();
        assert_eq!(
            op(Method::GET, "/", "comp=list", None).unwrap(),
            O::ListContainers
        );
        assert_eq!(
            op(Method::PUT, "/c", "restype=container", None).unwrap(),
            O::CreateContainer(s("c"))
        );
        assert_eq!(
            op(Method::GET, "/c", "restype=container&comp=list", None).unwrap(),
            O::ListBlobs(s("c"))
        );
        assert_eq!(
            op(Method::PUT, "/c/b", "", Some("BlockBlob")).unwrap(),
            O::PutBlob(s("c"), s("b"))
        );
        assert_eq!(
            op(Method::PUT, "/c/b", "comp=block&blockid=AA", None).unwrap(),
            O::PutBlock(s("c"), s("b"))
        );
        assert_eq!(
            op(Method::HEAD, "/c/b", "", None).unwrap(),
            O::GetBlobProperties(s("c"), s("b"))
        );
        assert_eq!(
            op(Method::GET, "/c/b", "restype=account&comp=properties", None).unwrap(),
            O::GetAccountInformation
        );
        assert_eq!(
            op(Method::PUT, "/c/b", "", Some("PageBlob"))
                .unwrap_err()
                .code,
            "UnsupportedHeader"
        );
        assert_eq!(
            op(Method::PUT, "/c/b", "comp=tags", None).unwrap_err().code,
            "UnsupportedQueryParameter"
        );
        assert_eq!(
            op(Method::GET, "/c/b", "snapshot=x", None)
                .unwrap_err()
                .code,
            "UnsupportedQueryParameter"
        );
        assert_eq!(
            op(Method::PUT, "/c/b", "", None).unwrap_err().code,
            "MissingRequiredHeader"
        );
    }
}
