//! The pipeline's settings (`[jobs]` in the server's config).

use serde::{Deserialize, Serialize};

/// The processing pipeline's workers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct JobsConfig {
    /// Jobs this node runs at once (0: this node runs none, other nodes do).
    pub workers: usize,
    /// How long a claimed job is held without a heartbeat before another worker may take it.
    pub lease_secs: u64,
    /// Attempts before a job is marked failed.
    pub max_attempts: u32,
    /// First retry delay; doubles with each attempt.
    pub retry_base_secs: u64,
    /// Packaging speed limit as a multiple of real time (0: unlimited), so background work
    /// leaves CPU for live streams and rooms.
    pub pace: f64,
    /// Package every catalogued track for HLS (false: only when a player asks).
    pub hls_all: bool,
    /// Analyse every catalogued track (tempo, key, features) after its loudness is measured
    /// (false: only when the analysis is asked for).
    pub analysis_all: bool,
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            workers: 1,
            lease_secs: 60,
            max_attempts: 5,
            retry_base_secs: 10,
            pace: 0.0,
            hls_all: true,
            analysis_all: true,
        }
    }
}
