//! CMAF / fragmented-MP4 boxes for one AAC track (built with `mp4-atom`): the initialization
//! segment and one media fragment per HLS segment.

use crate::hls::aac::AU_SAMPLES;
use crate::MediaError;
use mp4_atom::esds::{DecoderConfig, DecoderSpecific, EsDescriptor};
use mp4_atom::{Atom, Encode};
use mp4_atom::{
    Codec, Dinf, Dref, DrefEntry, Edts, Elst, ElstEntry, Esds, FixedPoint, Ftyp, Hdlr, Mdat, Mdhd,
    Mdia, Mfhd, Minf, Moof, Moov, Mp4a, Mvex, Mvhd, Smhd, Stbl, Stsd, Styp, Tfdt, Tfhd, Tkhd, Traf,
    Trak, Trex, Trun, TrunEntry, TrunSamples, Url,
};

const TRACK_ID: u32 = 1;

/// What the initialization segment declares about the track.
#[derive(Debug, Clone)]
pub struct TrackHeader {
    pub sample_rate: u32,
    pub channels: u16,
    /// The encoder's AudioSpecificConfig.
    pub asc: Vec<u8>,
    /// Priming samples before the first source sample (skipped by the edit list).
    pub delay: u32,
    /// Source frames: the edit list's length, so padding after the end is not played.
    pub frames: u64,
    pub max_au_bytes: u32,
    pub avg_bitrate: u32,
    pub max_bitrate: u32,
}

fn mp4_err(e: mp4_atom::Error) -> MediaError {
    MediaError::Codec(format!("mp4 box: {e}"))
}

fn encode(atom: &impl Atom, out: &mut Vec<u8>) -> Result<(), MediaError> {
    atom.encode(out).map_err(mp4_err)
}

/// The `ftyp` + `moov` of the track: sample description, timescale = sample rate, and the
/// edit list that makes playback start at the first source sample and stop at the last.
pub fn init_segment(h: &TrackHeader) -> Result<Vec<u8>, MediaError> {
    let ftyp = Ftyp {
        major_brand: b"iso6".into(),
        minor_version: 0,
        compatible_brands: vec![b"iso6".into(), b"cmfc".into(), b"mp41".into()],
    };
    let (profile, freq_index, chan_conf) = match h.asc.as_slice() {
        [a, b, ..] => (a >> 3, ((a & 7) << 1) | (b >> 7), (b >> 3) & 0xF),
        _ => return Err(MediaError::Codec("aac encoder gave no config".into())),
    };
    let mp4a = Mp4a {
        audio: mp4_atom::Audio {
            data_reference_index: 1,
            channel_count: h.channels,
            sample_size: 16,
            sample_rate: FixedPoint::new(u16::try_from(h.sample_rate).unwrap_or(0), 0),
        },
        esds: Esds {
            es_desc: EsDescriptor {
                es_id: TRACK_ID as u16,
                dec_config: DecoderConfig {
                    object_type_indication: 0x40,
                    stream_type: 5,
                    up_stream: 0,
                    buffer_size_db: u24_of(h.max_au_bytes),
                    max_bitrate: h.max_bitrate,
                    avg_bitrate: h.avg_bitrate,
                    dec_specific: Some(DecoderSpecific {
                        profile,
                        freq_index,
                        chan_conf,
                        raw: h.asc.clone(),
                    }),
                },
                ..Default::default()
            },
        },
        btrt: None,
        taic: None,
    };
    let moov = Moov {
        mvhd: Mvhd {
            timescale: h.sample_rate,
            duration: h.frames,
            rate: 1.into(),
            volume: 1.into(),
            next_track_id: TRACK_ID + 1,
            ..Default::default()
        },
        mvex: Some(Mvex {
            mehd: None,
            trex: vec![Trex {
                track_id: TRACK_ID,
                default_sample_description_index: 1,
                default_sample_duration: AU_SAMPLES,
                ..Default::default()
            }],
        }),
        trak: vec![Trak {
            tkhd: Tkhd {
                track_id: TRACK_ID,
                duration: h.frames,
                enabled: true,
                in_movie: true,
                volume: 1.into(),
                ..Default::default()
            },
            edts: Some(Edts {
                elst: Some(Elst {
                    entries: vec![ElstEntry {
                        segment_duration: h.frames,
                        media_time: Some(h.delay as u64),
                        media_rate: 1.into(),
                    }],
                }),
            }),
            mdia: Mdia {
                mdhd: Mdhd {
                    timescale: h.sample_rate,
                    language: "und".into(),
                    ..Default::default()
                },
                hdlr: Hdlr {
                    handler: b"soun".into(),
                    name: "Tonearm".into(),
                },
                minf: Minf {
                    smhd: Some(Smhd::default()),
                    dinf: Dinf {
                        dref: Dref {
                            entries: vec![DrefEntry::Url(Url {
                                location: String::new(),
                            })],
                        },
                    },
                    stbl: Stbl {
                        stsd: Stsd {
                            codecs: vec![Codec::Mp4a(mp4a)],
                        },
                        ..Default::default()
                    },
                    ..Default::default()
                },
            },
            ..Default::default()
        }],
        ..Default::default()
    };
    let mut out = Vec::with_capacity(1024);
    encode(&ftyp, &mut out)?;
    encode(&moov, &mut out)?;
    Ok(out)
}

fn u24_of(v: u32) -> mp4_atom::u24 {
    let b = v.min(0xFF_FFFF).to_be_bytes();
    [b[1], b[2], b[3]].into()
}

/// One media segment: `styp` + `moof` + `mdat` holding `aus` (raw access units), the first of
/// which is access unit number `first_au` of the track.
pub fn media_segment(sequence: u32, first_au: u64, aus: &[Vec<u8>]) -> Result<Vec<u8>, MediaError> {
    let styp = Styp {
        major_brand: b"msdh".into(),
        minor_version: 0,
        compatible_brands: vec![b"msdh".into(), b"msix".into(), b"cmfs".into()],
    };
    let moof_with = |data_offset: i32| Moof {
        mfhd: Mfhd {
            sequence_number: sequence,
        },
        traf: vec![Traf {
            tfhd: Tfhd {
                track_id: TRACK_ID,
                default_sample_duration: Some(AU_SAMPLES),
                default_base_is_moof: true,
                ..Default::default()
            },
            tfdt: Some(Tfdt {
                base_media_decode_time: first_au * AU_SAMPLES as u64,
            }),
            trun: vec![Trun {
                data_offset: Some(data_offset),
                samples: TrunSamples::Explicit(
                    aus.iter()
                        .map(|a| TrunEntry {
                            size: Some(a.len() as u32),
                            ..Default::default()
                        })
                        .collect(),
                ),
            }],
            ..Default::default()
        }],
    };
    // The data offset counts from the start of `moof` to the first byte of `mdat`'s payload;
    // its field has a fixed width, so a first encoding gives the size.
    let mut probe = Vec::new();
    encode(&moof_with(0), &mut probe)?;
    let offset = i32::try_from(probe.len() + 8)
        .map_err(|_| MediaError::Codec("fragment header too large".into()))?;
    let payload: usize = aus.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(probe.len() + payload + 64);
    encode(&styp, &mut out)?;
    encode(&moof_with(offset), &mut out)?;
    let mdat = Mdat { data: aus.concat() };
    encode(&mdat, &mut out)?;
    Ok(out)
}
