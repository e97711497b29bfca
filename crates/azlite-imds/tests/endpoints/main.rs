//! The managed-identity endpoints over HTTP, in-process, against a real STS and store:
//! every IMDS error case of the reference with its exact body, identity selection, the
//! token cache, the VM extension and Cloud Shell, App Service, Arc, the metadata routes,
//! throttling, and the identity block as ARM itself writes it.

mod app_service;
mod arc;
mod arm_contract;
mod attacks;
mod cache;
mod common;
mod extension;
mod imds_errors;
mod imds_token;
mod instance;
