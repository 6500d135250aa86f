//! Shared server state handed to every handler.

use crate::config::Config;
use crate::stream_cache::ChunkCache;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::atomic::{AtomicI64, AtomicUsize};
use std::sync::Arc;
use std::time::Instant;
use tonearm_library::ScanProgress;
use tonearm_store::Store;

/// Cheap to clone; everything inside is shared.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

pub struct Inner {
    pub store: Store,
    pub jwt: crate::auth::tokens::JwtKeys,
    pub limits: crate::limits::Limits,
    /// Open listening rooms.
    pub rooms: Arc<tonearm_rooms::engine::Rooms>,
    /// The Redis shared with other nodes, when configured.
    pub shared: Option<crate::shared::Shared>,
    /// One-time token for creating the first admin, while there is no user.
    pub setup_token: std::sync::Mutex<Option<String>>,
    pub config: Config,
    pub scan: Arc<ScanProgress>,
    pub cache: Arc<ChunkCache>,
    pub started: Instant,
    pub metrics: Option<PrometheusHandle>,
    /// Streams being sent right now.
    pub active_streams: Arc<AtomicI64>,
    /// The processing queue's workers and job kinds, and the object store they write.
    pub pipeline: Arc<tonearm_pipeline::Pipeline>,
    /// Recently served HLS objects.
    pub hls_cache: crate::hls_cache::HlsCache,
    /// Scan-and-measure tasks started and not yet finished (0 = the server is idle).
    pub background_jobs: AtomicUsize,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
