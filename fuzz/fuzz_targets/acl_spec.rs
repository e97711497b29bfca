//! Fuzz target `acl_spec`: the ACL spec parser of `azlite-posix-acl` (WebHDFS's `aclSpec`,
//! untrusted input). Whatever parses must print back to a spec that parses to the same
//! entries, and applying it to an ACL must not panic.
#![no_main]

use azlite_posix_acl::spec::{parse_removal_spec, parse_spec, print_spec};
use azlite_posix_acl::{Acl, Mode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(entries) = parse_spec(text) {
        let printed = print_spec(&entries);
        assert_eq!(parse_spec(&printed).as_ref(), Ok(&entries));
        let mut acl = Acl::new("owner", "group", Mode::from_bits(0o770));
        let _ = acl.set_acl(&entries, true);
        let _ = acl.modify_acl_entries(&entries, true);
        assert_eq!(acl.access.mask.is_some(), acl.access.is_extended());
    }
    if let Ok(keys) = parse_removal_spec(text) {
        let mut acl = Acl::new("owner", "group", Mode::from_bits(0o770));
        let _ = acl.remove_acl_entries(&keys);
    }
});
