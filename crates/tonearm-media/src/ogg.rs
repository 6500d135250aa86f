//! Minimal Ogg page writer (RFC 3533). Written here rather than taken from the `ogg` crate because
//! the seekable-transcode layout needs pages whose size and sequence number are computable before
//! any audio is encoded; this writer builds exactly one page from given packets and nothing else.

/// CRC-32 as Ogg defines it: polynomial 0x04c11db7, no reflection, init 0, no final xor.
fn crc32(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, slot) in t.iter_mut().enumerate() {
            let mut r = (i as u32) << 24;
            for _ in 0..8 {
                r = if r & 0x8000_0000 != 0 {
                    (r << 1) ^ 0x04c1_1db7
                } else {
                    r << 1
                };
            }
            *slot = r;
        }
        t
    });
    data.iter().fold(0u32, |crc, &b| {
        (crc << 8) ^ table[((crc >> 24) as u8 ^ b) as usize]
    })
}

/// Header flags of a page.
pub const FLAG_BOS: u8 = 0x02;
pub const FLAG_EOS: u8 = 0x04;

/// Number of lacing values a packet of `len` bytes needs.
pub fn lacing_len(len: usize) -> usize {
    len / 255 + 1
}

/// Total size in bytes of a page holding packets of these sizes (each packet complete).
pub fn page_size(packet_sizes: impl IntoIterator<Item = usize>) -> usize {
    let (segs, data) = packet_sizes
        .into_iter()
        .fold((0, 0), |(s, d), len| (s + lacing_len(len), d + len));
    27 + segs + data
}

/// Builds one page containing complete packets. Panics only on a programming error (more than
/// 255 lacing values), never on audio content.
pub fn write_page(
    out: &mut Vec<u8>,
    flags: u8,
    granule: u64,
    serial: u32,
    sequence: u32,
    packets: &[&[u8]],
) {
    let start = out.len();
    let lacing: Vec<u8> = packets
        .iter()
        .flat_map(|p| {
            let full = p.len() / 255;
            std::iter::repeat_n(255u8, full).chain(std::iter::once((p.len() % 255) as u8))
        })
        .collect();
    assert!(lacing.len() <= 255, "too many packets for one Ogg page");
    out.extend_from_slice(b"OggS");
    out.push(0);
    out.push(flags);
    out.extend_from_slice(&granule.to_le_bytes());
    out.extend_from_slice(&serial.to_le_bytes());
    out.extend_from_slice(&sequence.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.push(lacing.len() as u8);
    out.extend_from_slice(&lacing);
    for p in packets {
        out.extend_from_slice(p);
    }
    let crc = crc32(&out[start..]);
    out[start + 22..start + 26].copy_from_slice(&crc.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_known_vector() {
        // CRC-32/MPEG-2 style without init/xorout: "123456789" -> 0x89A1897F (CRC-32/BZIP2 variant
        // differs); Ogg's parameters give 0x89A1897F.
        assert_eq!(crc32(b"123456789"), 0x89A1_897F);
    }

    #[test]
    fn page_size_matches_written_page() {
        let a = vec![1u8; 320];
        let b = vec![2u8; 255];
        let mut out = Vec::new();
        write_page(&mut out, 0, 960, 7, 3, &[&a, &b]);
        assert_eq!(out.len(), page_size([320, 255]));
    }
}
