//! The digests Azure Storage checks uploads with: MD5 (`Content-MD5`) and its CRC-64
//! (`x-ms-content-crc64`).
//!
//! Azure's CRC-64 is the reflected polynomial `0x9A6C9329AC4BC9B5` with all-ones initial
//! value and final inversion, which is the catalogued CRC-64/NVME; on the wire it is the
//! 8 bytes of the value in little-endian order, base64-encoded (as the Go and .NET storage
//! SDKs compute it).

use crc::{CRC_64_NVME, Crc, Table};

static AZURE_CRC64: Crc<u64, Table<16>> = Crc::<u64, Table<16>>::new(&CRC_64_NVME);

/// A running Azure Storage CRC-64.
pub struct Crc64(crc::Digest<'static, u64, Table<16>>);

impl Crc64 {
    /// A CRC over no bytes yet.
    pub fn new() -> Self {
        Self(AZURE_CRC64.digest())
    }

    /// Adds `bytes`.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The CRC of every byte added.
    pub fn finish(self) -> u64 {
        self.0.finalize()
    }
}

impl Default for Crc64 {
    fn default() -> Self {
        Self::new()
    }
}

/// Azure Storage's CRC-64 of `bytes`.
pub fn azure_crc64(bytes: &[u8]) -> u64 {
    AZURE_CRC64.checksum(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogued_check_value() {
        // CRC-64/NVME's check value (the CRC of "123456789").
        assert_eq!(azure_crc64(b"123456789"), 0xae8b_1486_0a79_9888);
    }

    #[test]
    fn incremental_equals_one_shot() {
        let data: Vec<u8> = (0..10_000u32).map(|n| (n * 31 % 251) as u8).collect();
        let mut running = Crc64::new();
        for chunk in data.chunks(777) {
            running.update(chunk);
        }
        assert_eq!(running.finish(), azure_crc64(&data));
    }
}
