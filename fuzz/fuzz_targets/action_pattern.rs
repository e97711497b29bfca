//! RBAC action patterns (`Microsoft.Storage/*/read`): any text compiles or is refused
//! without panicking, and a compiled pattern matches any operation name without panicking;
//! a pattern without `*` matches its own text.
#![no_main]

use azlite_authz::{Action, ActionPattern};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The first line is the pattern; the second the operation it is tried on.
    let (pattern, operation) = text.split_once('\n').unwrap_or((text, ""));
    let Ok(compiled) = ActionPattern::parse(pattern) else {
        return;
    };
    let _ = compiled.matches(&Action::control(operation));
    let _ = compiled.matches(&Action::data(operation));
    if !pattern.contains('*') {
        assert!(compiled.matches(&Action::control(pattern)));
    }
});
