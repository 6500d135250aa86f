//! The processing pipeline: workers that take jobs from the database queue (`tonearm_store::
//! jobs`) and run them on any number of nodes. A job kind is a [`JobKind`] (`kinds`):
//! loudness measurement, audio analysis (queued when loudness is done) and HLS packaging; a
//! new kind is one more module there, registered in [`Pipeline::new`] (or by whoever builds
//! the pipeline, with [`Pipeline::with_kind`]). The server only builds it and starts it.
//!
//! A worker claims a job under a lease and renews it while it works (`runner`); if the worker
//! dies the lease lapses and any worker takes the job again (and a node that restarts releases
//! its own jobs at once). Outputs are published atomically: an HLS package's objects are
//! written under a fresh prefix, and only the database row written with the job's completion
//! makes them visible. Each kind's sweep removes what no row and no running job owns (a
//! crash's leftovers).

mod config;
pub mod kinds;
mod runner;

pub use config::JobsConfig;
pub use kinds::loudness::LoudnessError;
pub use runner::{JobError, JobKind, Outcome};

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tonearm_store::{input_stamp, ClaimedJob, Objects, Store, StoreError, TrackSource};

/// Job kinds.
pub const LOUDNESS: &str = "loudness";
pub const HLS: &str = "hls";
pub const ANALYSIS: &str = "analysis";

/// How urgent a job is: a player waiting beats the scan's backlog.
pub const PRIORITY_BACKGROUND: i64 = 0;
pub const PRIORITY_WAITING: i64 = 10;

/// How often each kind sweeps leftovers of interrupted work.
const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// The queue, the kinds that run its jobs, and what they work with. Shared (`Arc`) by the
/// server's handlers, its workers and the CLI.
pub struct Pipeline {
    pub store: Store,
    /// Where outputs are stored (HLS packages; a folder, or S3 shared by nodes).
    pub objects: Objects,
    pub config: JobsConfig,
    /// This node's stable identity (names its workers).
    pub node_id: String,
    kinds: HashMap<&'static str, Arc<dyn JobKind>>,
    /// Wakes idle workers when jobs are queued.
    wake: tokio::sync::Notify,
    /// One loudness measurement at a time: they decode whole tracks.
    loudness_lock: tokio::sync::Mutex<()>,
}

impl Pipeline {
    /// The pipeline with the built-in kinds. `data` is the data dir (it keeps `node.id`).
    pub fn new(store: Store, objects: Objects, config: JobsConfig, data: &std::path::Path) -> Self {
        let pipeline = Pipeline {
            store,
            objects,
            config,
            node_id: node_id(data),
            kinds: HashMap::new(),
            wake: tokio::sync::Notify::new(),
            loudness_lock: tokio::sync::Mutex::new(()),
        };
        pipeline
            .with_kind(kinds::loudness::LoudnessJob)
            .with_kind(kinds::analysis::AnalysisJob)
            .with_kind(kinds::hls::HlsJob)
    }

    /// Adds (or replaces) the kind that runs jobs named `kind.name()`.
    pub fn with_kind(mut self, kind: impl JobKind) -> Self {
        self.kinds.insert(kind.name(), Arc::new(kind));
        self
    }

    fn kind(&self, name: &str) -> Option<&Arc<dyn JobKind>> {
        self.kinds.get(name)
    }

    /// Wakes idle workers (after queueing jobs).
    pub fn wake(&self) {
        self.wake.notify_waiters();
    }

    /// Queues `kind` for a track at waiting priority (someone is waiting for its output), and
    /// wakes the workers. `force` re-runs a job that finished.
    pub async fn enqueue_waiting(
        &self,
        kind: &str,
        src: &TrackSource,
        force: bool,
    ) -> Result<(), StoreError> {
        let input = input_stamp(src.size_bytes, src.mtime_ms);
        self.store
            .enqueue_job(kind, &src.id, &input, PRIORITY_WAITING, force)
            .await?;
        self.wake();
        Ok(())
    }

    /// Queues what the catalog is missing (loudness; HLS packages unless `jobs.hls_all` is
    /// off; analyses of measured tracks unless `jobs.analysis_all` is off) and wakes the
    /// workers.
    pub async fn enqueue_missing(&self) {
        let mut queued = self.store.enqueue_missing(self.config.hls_all).await;
        if self.config.analysis_all {
            if let Ok(n) = &mut queued {
                match self
                    .store
                    .enqueue_missing_analysis(tonearm_analysis::ALGORITHM_VERSION as i64, true)
                    .await
                {
                    Ok(k) => *n += k,
                    Err(e) => queued = Err(e),
                }
            }
        }
        match queued {
            Ok(n) if n > 0 => {
                tracing::info!(queued = n, "processing jobs queued");
                self.wake();
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "could not queue processing jobs"),
        }
    }

    /// Queues every job of one track (after an upload), or re-runs them with `force`.
    pub async fn enqueue_track(&self, track_id: &str, force: bool) -> Result<(), StoreError> {
        let Some(src) = self.store.track_source(track_id).await? else {
            return Ok(());
        };
        let input = input_stamp(src.size_bytes, src.mtime_ms);
        if force || src.loudness_lufs.is_none() {
            self.store
                .enqueue_job(LOUDNESS, track_id, &input, PRIORITY_BACKGROUND, force)
                .await?;
        }
        if force || self.config.hls_all {
            self.store
                .enqueue_job(HLS, track_id, &input, PRIORITY_BACKGROUND, force)
                .await?;
        }
        // Analysis follows loudness (the loudness job queues it); a measured track is queued now.
        if force || (self.config.analysis_all && src.loudness_lufs.is_some()) {
            self.store
                .enqueue_job(ANALYSIS, track_id, &input, PRIORITY_BACKGROUND, force)
                .await?;
        }
        self.wake();
        Ok(())
    }

    /// Starts this node's workers and the start-up recovery: jobs this node held when it
    /// stopped are released, and every kind sweeps its leftovers (at start, then hourly: a job
    /// that died on another node, or whose clean-up failed, leaves outputs nothing owns).
    pub fn spawn(self: &Arc<Self>) {
        let p = self.clone();
        tokio::spawn(async move {
            let n = p.config.workers;
            for i in 0..n {
                let name = p.worker_name(i);
                match p.store.release_jobs_of(&name).await {
                    Ok(0) => {}
                    Ok(k) => {
                        tracing::warn!(worker = %name, jobs = k, "re-queued jobs interrupted by a restart")
                    }
                    Err(e) => tracing::error!(error = %e, "could not release interrupted jobs"),
                }
            }
            for i in 0..n {
                tokio::spawn(runner::worker(p.clone(), p.worker_name(i)));
            }
            let mut every = tokio::time::interval(SWEEP_EVERY);
            loop {
                every.tick().await;
                for kind in p.kinds.values() {
                    if let Err(e) = kind.sweep(&p).await {
                        tracing::warn!(kind = kind.name(), error = %e, "sweep failed");
                    }
                }
            }
        });
    }

    /// Runs queued jobs (of `kind`, or any) in this process until none is runnable (the CLI's
    /// `tonearm process` and `tonearm analyze`), calling `progress(done, failed)` after each.
    /// Other nodes may take jobs meanwhile: the queue is shared. Returns (done, failed).
    pub async fn drain(&self, kind: Option<&str>, progress: impl FnMut(u64, u64)) -> (u64, u64) {
        runner::drain(self, kind, progress).await
    }

    fn worker_name(&self, i: usize) -> String {
        format!("{}-{i}", self.node_id)
    }

    /// The file a claimed job works on, or how the job ends without working: the track is
    /// gone, or its file changed since the job was queued (then it is queued again for the
    /// file as it is).
    pub async fn job_source(
        &self,
        job: &ClaimedJob,
    ) -> Result<Result<TrackSource, Outcome>, JobError> {
        let Some(src) = self.store.track_source(&job.track_id).await? else {
            return Ok(Err(Outcome::Gone));
        };
        if self.requeue_if_changed(job, &src).await? {
            return Ok(Err(Outcome::Superseded));
        }
        Ok(Ok(src))
    }

    /// When the file changed since the job was queued, queues it again for the file as it is
    /// (the re-queue takes the job from this attempt). Returns whether it did.
    pub async fn requeue_if_changed(
        &self,
        job: &ClaimedJob,
        src: &TrackSource,
    ) -> Result<bool, JobError> {
        let now = input_stamp(src.size_bytes, src.mtime_ms);
        if now == job.input {
            return Ok(false);
        }
        self.store
            .enqueue_job(&job.kind, &job.track_id, &now, PRIORITY_BACKGROUND, false)
            .await?;
        Ok(true)
    }
}

/// Where a job attempt writes its output (recorded at claim time; see `jobs.output`).
pub fn output_prefix(kind: &str, track_id: &str, job_id: i64, attempt: i64) -> String {
    format!("{kind}/{track_id}/{job_id}-{attempt}")
}

/// This node's stable identity (kept in the data dir, so a restarted node recognizes the jobs
/// it held when it died).
fn node_id(data: &std::path::Path) -> String {
    use base64::Engine;
    let file = data.join("node.id");
    if let Ok(id) = std::fs::read_to_string(&file) {
        let id = id.trim();
        if !id.is_empty() && id.len() <= 64 {
            return id.to_string();
        }
    }
    let bytes: [u8; 9] = rand::random();
    let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let tmp = data.join("node.id.tmp");
    if std::fs::write(&tmp, &id).is_ok() && std::fs::rename(&tmp, &file).is_ok() {
        return id;
    }
    id
}
