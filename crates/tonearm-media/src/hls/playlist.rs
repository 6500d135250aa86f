//! HLS playlists (RFC 8216) rendered from a package's [`Manifest`]: the numbers in them
//! (durations, bandwidths, codecs) are the ones measured on the real output.

use crate::hls::{Manifest, Variant};
use std::fmt::Write;

/// The duration of `aus` access units at the manifest's rate, in seconds.
fn seconds(m: &Manifest, aus: u32) -> f64 {
    aus as f64 * crate::hls::aac::AU_SAMPLES as f64 / m.sample_rate as f64
}

/// The master playlist. Variant `i` is at `variant_uri(i)`.
pub fn master(m: &Manifest, variant_uri: impl Fn(&Variant) -> String) -> String {
    let mut s = String::from("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    for v in &m.variants {
        let _ = writeln!(
            s,
            "#EXT-X-STREAM-INF:BANDWIDTH={},AVERAGE-BANDWIDTH={},CODECS=\"{}\"\n{}",
            v.peak_bandwidth,
            v.average_bandwidth,
            v.codecs,
            variant_uri(v)
        );
    }
    s
}

/// `#EXT-X-TARGETDURATION`: the longest segment rounded to the nearest second, as RFC 8216
/// §4.3.3.1 compares it.
pub fn target_duration(m: &Manifest, v: &Variant) -> u64 {
    v.segments
        .iter()
        .map(|s| seconds(m, s.aus).round() as u64)
        .max()
        .unwrap_or(0)
        .max(1)
}

/// A variant's media playlist: VOD, fMP4 (`EXT-X-MAP`), and the AES-128 key at `key_uri`.
/// The map comes before the key, so the initialization segment (codec setup, no audio) is
/// stored and fetched in the clear while every media segment is ciphertext.
pub fn media(
    m: &Manifest,
    v: &Variant,
    key_uri: &str,
    segment_uri: impl Fn(usize) -> String,
    init_uri: &str,
) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:{}\n#EXT-X-MEDIA-SEQUENCE:0\n\
         #EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MAP:URI=\"{}\"\n\
         #EXT-X-KEY:METHOD=AES-128,URI=\"{}\",IV=0x{}\n",
        target_duration(m, v),
        init_uri,
        key_uri,
        m.iv_hex
    );
    for (i, seg) in v.segments.iter().enumerate() {
        let _ = writeln!(s, "#EXTINF:{:.6},\n{}", seconds(m, seg.aus), segment_uri(i));
    }
    s.push_str("#EXT-X-ENDLIST\n");
    s
}
