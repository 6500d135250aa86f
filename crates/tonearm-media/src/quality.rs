//! What a client may ask a transcode for: a container/codec and a quality tier.

use std::fmt;
use std::str::FromStr;

/// Output codec of a transcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// MPEG-1 Layer III, CBR, 48 kHz: plays everywhere.
    Mp3,
    /// Opus in Ogg, hard CBR, 48 kHz: smaller for the same quality.
    Opus,
}

/// Quality tier; the bitrate per format is fixed so byte lengths are known before encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quality {
    Low,
    Medium,
    High,
}

impl Quality {
    /// Bitrate in kbit/s for both formats: 64 / 128 / 256.
    pub fn kbps(self) -> u32 {
        match self {
            Quality::Low => 64,
            Quality::Medium => 128,
            Quality::High => 256,
        }
    }
}

impl Format {
    pub fn mime(self) -> &'static str {
        match self {
            Format::Mp3 => "audio/mpeg",
            Format::Opus => "audio/ogg; codecs=opus",
        }
    }
    pub fn extension(self) -> &'static str {
        match self {
            Format::Mp3 => "mp3",
            Format::Opus => "opus",
        }
    }
}

/// A value a client sent that names no known format or quality.
#[derive(Debug, thiserror::Error)]
#[error("unknown {kind} {value:?}; expected one of {expected}")]
pub struct ParseError {
    kind: &'static str,
    value: String,
    expected: &'static str,
}

impl FromStr for Format {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "mp3" => Ok(Format::Mp3),
            "opus" | "ogg" => Ok(Format::Opus),
            _ => Err(ParseError {
                kind: "format",
                value: s.chars().take(32).collect(),
                expected: "mp3, opus",
            }),
        }
    }
}

impl FromStr for Quality {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "low" => Ok(Quality::Low),
            "medium" => Ok(Quality::Medium),
            "high" => Ok(Quality::High),
            _ => Err(ParseError {
                kind: "quality",
                value: s.chars().take(32).collect(),
                expected: "original, low, medium, high",
            }),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

impl fmt::Display for Quality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Quality::Low => "low",
            Quality::Medium => "medium",
            Quality::High => "high",
        })
    }
}
