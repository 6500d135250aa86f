//! The LAME-style "Info" frame that opens every MP3 we serve.
//!
//! It is an MP3 frame of the same size as the audio frames that carries the frame count, the byte
//! count and the encoder delay/padding. With it, gapless-aware decoders (ffmpeg, browsers) trim the
//! encoder delay and the tail padding, so the decoded length equals the source length exactly; and
//! because every value in it is known from the [`StreamPlan`] alone, it can be sent as the first
//! bytes of a first-play transcode.

use super::{StreamPlan, LAME_ENCODER_DELAY, MP3_FRAME_SAMPLES};

/// MPEG-1 Layer III bitrate index for a bitrate in kbit/s.
pub fn bitrate_index(kbps: u32) -> Option<u8> {
    const TABLE: [u32; 14] = [
        32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ];
    TABLE.iter().position(|&b| b == kbps).map(|i| i as u8 + 1)
}

/// The 4-byte frame header every frame of the plan carries: MPEG-1, Layer III, no CRC, 48 kHz,
/// no padding, joint stereo or mono.
pub fn frame_header(kbps: u32, channels: u16) -> [u8; 4] {
    let br = bitrate_index(kbps).unwrap_or(9);
    let mode = if channels == 1 { 0b11 } else { 0b01 };
    [0xFF, 0xFB, (br << 4) | (0b01 << 2), (mode << 6) | 0b0100]
}

/// CRC-16 (poly 0x8005 reflected, init 0) as used for the LAME tag checksum.
fn crc16(data: &[u8]) -> u16 {
    data.iter().fold(0u16, |mut crc, &b| {
        crc ^= b as u16;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xA001
            } else {
                crc >> 1
            };
        }
        crc
    })
}

/// Builds the Info frame for `plan` (which must be an MP3 plan).
pub fn info_frame(plan: &StreamPlan) -> Vec<u8> {
    let kbps = plan.quality.kbps();
    let size = plan.unit_bytes() as usize;
    let mut f = vec![0u8; size];
    f[..4].copy_from_slice(&frame_header(kbps, plan.channels));
    let mut p = 4 + if plan.channels == 1 { 17 } else { 32 };
    let mut put = |bytes: &[u8], p: &mut usize| {
        f[*p..*p + bytes.len()].copy_from_slice(bytes);
        *p += bytes.len();
    };
    let frames = u32::try_from(plan.unit_count()).unwrap_or(u32::MAX);
    // The byte count is a u32; a stream past 4 GiB (a 40-hour audiobook at 256k) omits it.
    // The header is this one frame (the plan's header is not set yet while it is being built).
    let total = u32::try_from((plan.unit_count() + 1) * size as u64).ok();
    put(b"Info", &mut p);
    let flags: u32 = if total.is_some() { 0x0F } else { 0x0D }; // frames, [bytes], TOC, quality
    put(&flags.to_be_bytes(), &mut p);
    put(&frames.to_be_bytes(), &mut p);
    if let Some(total) = total {
        put(&total.to_be_bytes(), &mut p);
    }
    let toc: Vec<u8> = (0..100u32).map(|i| (i * 256 / 100) as u8).collect(); // CBR: linear
    put(&toc, &mut p);
    put(&0u32.to_be_bytes(), &mut p); // quality indicator
    put(b"LAME3.100", &mut p);
    put(&[0x01], &mut p); // tag revision 0, VBR method 1 = CBR
    put(&[0x00], &mut p); // lowpass unknown
    put(&[0u8; 8], &mut p); // ReplayGain peak + radio + audiophile: not set
    put(&[0x00], &mut p); // flags + ATH type
    put(&[kbps.min(255) as u8], &mut p);
    let padding = frames as u64 * MP3_FRAME_SAMPLES - LAME_ENCODER_DELAY - plan.frames_48k;
    let delays = ((LAME_ENCODER_DELAY as u32) << 12) | (padding.min(4095) as u32);
    put(&delays.to_be_bytes()[1..], &mut p);
    put(&[0x00], &mut p); // misc
    put(&[0x00], &mut p); // mp3 gain
    put(&[0x00, 0x00], &mut p); // preset + surround
    put(&total.unwrap_or(0).to_be_bytes(), &mut p); // music length
    put(&[0x00, 0x00], &mut p); // music CRC: unknown before encoding
    let crc = crc16(&f[..p]);
    f[p..p + 2].copy_from_slice(&crc.to_be_bytes());
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality::{Format, Quality};

    #[test]
    fn crc16_known_vector() {
        // CRC-16/ARC check value.
        assert_eq!(crc16(b"123456789"), 0xBB3D);
    }

    #[test]
    fn info_frame_is_a_full_frame_with_tag() {
        let plan = StreamPlan::new(Format::Mp3, Quality::Medium, 48_000, 2, 48_000, 0);
        let f = plan.header();
        assert_eq!(f.len(), 384);
        assert_eq!(&f[..2], &[0xFF, 0xFB]);
        assert_eq!(&f[36..40], b"Info");
        assert_eq!(
            u32::from_be_bytes(f[44..48].try_into().unwrap()) as u64,
            plan.unit_count()
        );
        assert_eq!(
            u32::from_be_bytes(f[48..52].try_into().unwrap()) as u64,
            plan.total_len()
        );
    }

    #[test]
    fn streams_past_4_gib_omit_the_byte_count() {
        // 40 hours at 256 kbps: 4.6 GB.
        let plan = StreamPlan::new(Format::Mp3, Quality::High, 48_000, 2, 48_000 * 3600 * 40, 0);
        assert!(plan.total_len() > u32::MAX as u64);
        let f = plan.header();
        assert_eq!(&f[36..40], b"Info");
        assert_eq!(u32::from_be_bytes(f[40..44].try_into().unwrap()), 0x0D);
        assert_eq!(
            u32::from_be_bytes(f[44..48].try_into().unwrap()) as u64,
            plan.unit_count()
        );
    }
}
