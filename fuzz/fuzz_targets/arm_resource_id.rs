//! ARM resource ids and role-assignment scopes: any text parses or is refused without
//! panicking, and a parsed id is consistent with itself (it contains itself and each of its
//! ancestors, and its canonical text parses back to the same id).
#![no_main]

use azlite_types::ResourceId;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(id) = text.parse::<ResourceId>() else {
        return;
    };
    let again: ResourceId = id.as_str().parse().expect("a parsed id's text parses");
    assert_eq!(again, id);
    assert!(id.contains(&id));
    for ancestor in id.ancestors_and_self() {
        assert!(ancestor.contains(&id), "{ancestor:?} should contain {id:?}");
    }
    let _ = (id.subscription_id(), id.resource_group_name(), id.name());
    let _ = (id.resource_type(), id.is_rbac_scope());
});
