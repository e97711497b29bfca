//! Permission bits: `r` = 4, `w` = 2, `x` = 1, written `rwx`, `r-x`, `---`.

use std::fmt;

use crate::AclError;

/// A set of the three permission bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Perm(u8);

impl Perm {
    /// No permission.
    pub const NONE: Perm = Perm(0);
    /// Read.
    pub const R: Perm = Perm(4);
    /// Write.
    pub const W: Perm = Perm(2);
    /// Execute (on a folder: traverse).
    pub const X: Perm = Perm(1);
    /// Read and execute.
    pub const RX: Perm = Perm(5);
    /// Write and execute.
    pub const WX: Perm = Perm(3);
    /// Everything.
    pub const RWX: Perm = Perm(7);

    /// The permission of an octal digit's low three bits.
    pub const fn from_bits(bits: u8) -> Perm {
        Perm(bits & 7)
    }

    /// The octal digit.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Whether every bit of `want` is in `self`.
    pub const fn contains(self, want: Perm) -> bool {
        self.0 & want.0 == want.0
    }

    /// The bits in both.
    #[must_use]
    pub const fn and(self, other: Perm) -> Perm {
        Perm(self.0 & other.0)
    }

    /// The bits in either.
    #[must_use]
    pub const fn or(self, other: Perm) -> Perm {
        Perm(self.0 | other.0)
    }

    /// The bits of `self` not in `other`.
    #[must_use]
    pub const fn without(self, other: Perm) -> Perm {
        Perm(self.0 & !other.0 & 7)
    }

    /// Parses `rwx` notation: exactly three characters, each its letter or `-`
    /// (`r-x`). WebHDFS's `fsaction` and ACL specs use this form.
    pub fn parse_symbolic(text: &str) -> Result<Perm, AclError> {
        let bytes = text.as_bytes();
        if bytes.len() != 3 {
            return Err(AclError::InvalidPermission(text.to_owned()));
        }
        let mut bits = 0;
        for (byte, (letter, bit)) in bytes.iter().zip([(b'r', 4), (b'w', 2), (b'x', 1)]) {
            match byte {
                b if *b == letter => bits |= bit,
                b'-' => {}
                _ => return Err(AclError::InvalidPermission(text.to_owned())),
            }
        }
        Ok(Perm(bits))
    }
}

impl fmt::Display for Perm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = |bit: u8, letter: char| if self.0 & bit != 0 { letter } else { '-' };
        write!(f, "{}{}{}", c(4, 'r'), c(2, 'w'), c(1, 'x'))
    }
}

/// A mode as `chmod` takes it: owner, group (or mask), other, and the sticky bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mode {
    /// The owning user's bits.
    pub user: Perm,
    /// The owning group's bits (the mask's, when the item has an extended ACL).
    pub group: Perm,
    /// Everyone else's bits.
    pub other: Perm,
    /// The sticky bit (`1000`).
    pub sticky: bool,
}

impl Mode {
    /// Parses an octal mode of one to four digits (`770`, `0550`, `1777`), as WebHDFS's
    /// `permission` parameter carries it.
    pub fn parse_octal(text: &str) -> Result<Mode, AclError> {
        let invalid = || AclError::InvalidPermission(text.to_owned());
        if text.is_empty() || text.len() > 4 || !text.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
            return Err(invalid());
        }
        let value = u16::from_str_radix(text, 8).map_err(|_| invalid())?;
        if value > 0o1777 {
            return Err(invalid());
        }
        Ok(Mode::from_bits(value))
    }

    /// The mode of the low ten bits of `value` (`0o1777` at most).
    pub const fn from_bits(value: u16) -> Mode {
        Mode {
            user: Perm::from_bits((value >> 6) as u8),
            group: Perm::from_bits((value >> 3) as u8),
            other: Perm::from_bits(value as u8),
            sticky: value & 0o1000 != 0,
        }
    }

    /// The mode as a number.
    pub const fn bits(self) -> u16 {
        (self.user.bits() as u16) << 6
            | (self.group.bits() as u16) << 3
            | self.other.bits() as u16
            | if self.sticky { 0o1000 } else { 0 }
    }
}

impl fmt::Display for Mode {
    /// Octal without a leading zero, as WebHDFS's `permission` field shows it (`770`,
    /// `1770` with the sticky bit).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:o}", self.bits())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbolic_round_trips() {
        for bits in 0..8 {
            let p = Perm::from_bits(bits);
            assert_eq!(Perm::parse_symbolic(&p.to_string()).unwrap(), p);
        }
        assert_eq!(Perm::parse_symbolic("r-x").unwrap(), Perm::RX);
        for bad in ["", "rw", "rwxx", "xwr", "RWX", "r x"] {
            assert!(Perm::parse_symbolic(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn octal_modes_parse_as_webhdfs_sends_them() {
        assert_eq!(Mode::parse_octal("0550").unwrap().to_string(), "550");
        assert_eq!(Mode::parse_octal("770").unwrap().user, Perm::RWX);
        assert!(Mode::parse_octal("1770").unwrap().sticky);
        assert_eq!(Mode::parse_octal("7").unwrap().other, Perm::RWX);
        for bad in ["", "8", "07777", "2777", "abc", "-1"] {
            assert!(Mode::parse_octal(bad).is_err(), "{bad}");
        }
    }
}
