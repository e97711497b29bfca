//! ARM's `/resources` `$filter`: any text parses or is refused without panicking, a parsed
//! filter evaluates against any resource, and a refusal quotes the filter as sent.
#![no_main]

use std::collections::BTreeMap;

use azlite_arm::resource_filter::{Candidate, ResourceFilter};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The first line is the filter; the rest names the resource it is tried on.
    let (filter, rest) = text.split_once('\n').unwrap_or((text, ""));
    let mut parts = rest.split('\n');
    let mut next = || parts.next().unwrap_or_default();
    let (name, resource_type, group, location, tag) = (next(), next(), next(), next(), next());
    let tags = BTreeMap::from([(tag.to_owned(), name.to_owned())]);
    match ResourceFilter::parse(filter) {
        Ok(parsed) => {
            let candidate = Candidate {
                name,
                resource_type,
                resource_group: group,
                location,
                tags: &tags,
            };
            let _ = parsed.matches(&candidate);
            let _ = parsed.required_type();
        }
        Err(error) => assert_eq!(error.0, filter),
    }
});
