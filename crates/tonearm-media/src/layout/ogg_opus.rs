//! Ogg Opus (RFC 7845) framing for hard-CBR packets: header pages and audio pages.

use super::{StreamPlan, OGG_SERIAL, OPUS_PACKETS_PER_PAGE, OPUS_PACKET_SAMPLES};
use crate::ogg;

/// `OpusHead` + `OpusTags`, each on its own page (sequence 0 and 1) as RFC 7845 requires.
pub fn header_pages(plan: &StreamPlan) -> Vec<u8> {
    let mut head = Vec::with_capacity(19);
    head.extend_from_slice(b"OpusHead");
    head.push(1);
    head.push(plan.channels as u8);
    head.extend_from_slice(&(plan.pre_skip as u16).to_le_bytes());
    head.extend_from_slice(&48_000u32.to_le_bytes());
    head.extend_from_slice(&0i16.to_le_bytes());
    head.push(0);
    let vendor = b"tonearm";
    let mut tags = Vec::new();
    tags.extend_from_slice(b"OpusTags");
    tags.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
    tags.extend_from_slice(vendor);
    tags.extend_from_slice(&0u32.to_le_bytes());
    let mut out = Vec::new();
    ogg::write_page(&mut out, ogg::FLAG_BOS, 0, OGG_SERIAL, 0, &[&head]);
    ogg::write_page(&mut out, 0, 0, OGG_SERIAL, 1, &[&tags]);
    out
}

/// Writes audio page `page` (0-based among audio pages) holding `packets`.
pub fn audio_page(out: &mut Vec<u8>, plan: &StreamPlan, page: u64, packets: &[&[u8]]) {
    let last = page + 1 == plan.unit_count();
    let granule = if last {
        plan.pre_skip + plan.frames_48k
    } else {
        (page + 1) * OPUS_PACKETS_PER_PAGE * OPUS_PACKET_SAMPLES
    };
    let flags = if last { ogg::FLAG_EOS } else { 0 };
    ogg::write_page(out, flags, granule, OGG_SERIAL, page as u32 + 2, packets);
}
