//! Storage service versions (`x-ms-version`, a SAS's `sv`, a key's `skv`): dates that select
//! the wire format, compared as dates.

use std::fmt;

/// A storage service version such as `2015-04-05`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceVersion {
    year: u16,
    month: u8,
    day: u8,
}

impl ServiceVersion {
    /// The first version of the current Shared Key format (canonicalized query parameters).
    pub const V2009_09_19: Self = Self::new(2009, 9, 19);
    /// `Content-Length: 0` is signed as an empty line from this version on; service SAS
    /// resources start with `/blob/`.
    pub const V2015_02_21: Self = Self::new(2015, 2, 21);
    /// Account SAS, `sip` and `spr`: the oldest SAS version azlite accepts, and the one ARM's
    /// `listServiceSas`/`listAccountSas` sign with.
    pub const V2015_04_05: Self = Self::new(2015, 4, 5);
    /// `sr` and the snapshot time in the service SAS; user delegation SAS.
    pub const V2018_11_09: Self = Self::new(2018, 11, 9);
    /// `saoid`, `suoid`, `scid` in the user delegation SAS.
    pub const V2020_02_10: Self = Self::new(2020, 2, 10);
    /// `ses` (encryption scope) in every SAS.
    pub const V2020_12_06: Self = Self::new(2020, 12, 6);
    /// `skdutid` and `sduoid` in the user delegation SAS.
    pub const V2025_07_05: Self = Self::new(2025, 7, 5);
    /// `srh` and `srq` (signed request headers and query parameters) in the user
    /// delegation SAS.
    pub const V2026_04_06: Self = Self::new(2026, 4, 6);
    /// The newest version azure-storage-blob 12.31 sends.
    pub const NEWEST_KNOWN: Self = Self::new(2026, 10, 6);

    /// A version from its parts (not validated).
    pub const fn new(year: u16, month: u8, day: u8) -> Self {
        Self { year, month, day }
    }

    /// Parses exactly `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        let number = |range: std::ops::Range<usize>| -> Option<u16> {
            let part = &text[range];
            if part.bytes().all(|b| b.is_ascii_digit()) {
                part.parse().ok()
            } else {
                None
            }
        };
        let year = number(0..4)?;
        let month = u8::try_from(number(5..7)?).ok()?;
        let day = u8::try_from(number(8..10)?).ok()?;
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
            return None;
        }
        Some(Self::new(year, month, day))
    }
}

impl fmt::Display for ServiceVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_orders_versions() {
        let v = ServiceVersion::parse("2015-04-05").unwrap();
        assert_eq!(v, ServiceVersion::V2015_04_05);
        assert_eq!(v.to_string(), "2015-04-05");
        assert!(ServiceVersion::parse("2026-10-06").unwrap() > ServiceVersion::V2026_04_06);
        for bad in [
            "2015-4-05",
            "2015-13-01",
            "abcd-ef-gh",
            "2015-04-05 ",
            "",
            "2015-00-10",
        ] {
            assert_eq!(ServiceVersion::parse(bad), None, "{bad}");
        }
    }
}
