//! Unit tests. Two RSA keys are generated once per test binary (see [`support`]); the
//! known-answer tests in [`kat`] use fixtures made independently with Python `cryptography`
//! (`testdata/generate.py`).

mod assertion;
mod jwk;
mod kat;
mod keys;
mod parsing;
mod support;
mod verify;
