//! Azurite's drop-in listener (`azlite up --blob-listen 127.0.0.1:10000`): one account
//! (`devstoreaccount1`), path-style (`/<account>/<container>/<blob>`), over plain HTTP, as
//! `UseDevelopmentStorage=true` and Azurite's connection strings address it.
//!
//! Every request is marked path-style and not secure (so Bearer is refused, as Azurite and
//! Azure refuse it over HTTP); a request whose first path segment names any other account
//! gets Azurite's answer for an account it does not have: 400 `InvalidOperation`
//! "Invalid storage account.".

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;

use crate::request::BlobHost;
use crate::{Blob, BlobError};

/// The one account a listener serves, put on its requests.
#[derive(Debug, Clone)]
pub(crate) struct OnlyAccount(pub(crate) String);

impl OnlyAccount {
    /// Refuses a request to another account.
    pub(crate) fn check(&self, host: &BlobHost) -> Result<(), BlobError> {
        if host.account == self.0 {
            return Ok(());
        }
        Err(BlobError::new(
            StatusCode::BAD_REQUEST,
            "InvalidOperation",
            "Invalid storage account.",
        ))
    }
}

impl Blob {
    /// The router of a plain-HTTP listener that serves only `account`, path-style (Azurite's
    /// drop-in mode).
    pub fn single_account_router(self: Arc<Self>, account: &str) -> Router {
        let only = OnlyAccount(account.to_owned());
        self.router()
            .layer(axum::middleware::map_request(move |request: Request| {
                let only = only.clone();
                async move { mark(request, only) }
            }))
    }
}

/// Marks a request of the single-account listener: path-style, not secure, its account
/// the first path segment.
fn mark(mut request: Request, only: OnlyAccount) -> Request {
    let first = request
        .uri()
        .path()
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    request.extensions_mut().insert(BlobHost {
        account: first,
        path_style: true,
        secure: false,
    });
    request.extensions_mut().insert(only);
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_served_account_passes() {
        let only = OnlyAccount("devstoreaccount1".into());
        let host = |account: &str| BlobHost {
            account: account.into(),
            path_style: true,
            secure: false,
        };
        assert!(only.check(&host("devstoreaccount1")).is_ok());
        let refused = only.check(&host("other")).unwrap_err();
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert_eq!(refused.code, "InvalidOperation");
        assert!(only.check(&host("")).is_err());
    }
}
