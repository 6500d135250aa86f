//! Room traffic from the network: media-path frames and notices, and a host's
//! `broadcast:audio` payload through the server's frame checks. None may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tonearm_rooms::wire::{MediaFrame, Notice};
use tonearm_server::rooms::audio::{check_frame, FrameIn};

fuzz_target!(|data: &[u8]| {
    let bytes = bytes::Bytes::copy_from_slice(data);
    if let Ok(f) = MediaFrame::decode(&bytes) {
        // Bytes, not fields: a NaN timestamp is a valid frame that never equals itself.
        let again = MediaFrame::decode(&f.encode()).expect("a re-encoded frame decodes");
        assert_eq!(again.encode(), f.encode());
    }
    let _ = serde_json::from_slice::<Notice>(data);
    if let Ok(frame) = serde_json::from_slice::<FrameIn>(data) {
        let _ = check_frame(&frame, 4000, 1_700_000_000_000.0);
    }
});
