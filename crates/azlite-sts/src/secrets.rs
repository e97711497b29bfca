//! Random bytes for the opaque claims of tokens (`aio`, `rh`, `uti`). Client secrets are
//! minted and checked by `azlite_store::PasswordCredential`, which owns their hash format.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};

/// Random bytes from the operating system.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    // The system RNG failing is not something to recover from.
    SystemRandom::new()
        .fill(&mut out)
        .expect("the system random number generator failed");
    out
}
