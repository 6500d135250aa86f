//! Range / If-Range / If-None-Match evaluation on arbitrary header values: never panics, and a
//! partial answer always lies inside the representation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tonearm_server::http_range::{decide, parse_range, Decision, Validators};

fuzz_target!(|input: (&str, &str, &str, u32)| {
    let (range, if_range, inm, len) = input;
    let len = len as u64;
    if let Ok(Some((s, e))) = parse_range(range, len) {
        assert!(s < e && e <= len);
    }
    let mut h = axum::http::HeaderMap::new();
    for (k, v) in [("range", range), ("if-range", if_range), ("if-none-match", inm)] {
        if let Ok(v) = axum::http::HeaderValue::from_str(v) {
            h.insert(k, v);
        }
    }
    let v = Validators { etag: "\"x\"".into(), last_modified: None };
    if let Decision::Partial { start, end } = decide(&h, &v, len) {
        assert!(start < end && end <= len);
    }
});
