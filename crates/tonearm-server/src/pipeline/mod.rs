//! The processing pipeline: workers that take jobs from the database queue (`tonearm_store::
//! jobs`) and run them — loudness measurement, audio analysis (queued when loudness is done)
//! and HLS packaging — on any number of nodes.
//!
//! A worker claims a job under a lease and renews it while it works; if the worker dies the
//! lease lapses and any worker takes the job again (and a node that restarts releases its own
//! jobs at once). Outputs are published atomically: an HLS package's objects are written under
//! a fresh prefix, and only the database row written with the job's completion makes them
//! visible. The sweep removes prefixes no row and no running job owns (a crash's leftovers).

pub mod analysis;
pub mod hls;

use crate::state::AppState;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tonearm_media::MediaError;
use tonearm_store::{input_stamp, ClaimedJob};

/// Job kinds.
pub const LOUDNESS: &str = "loudness";
pub const HLS: &str = "hls";
pub const ANALYSIS: &str = "analysis";

/// How urgent a job is: a player waiting beats the scan's backlog.
pub const PRIORITY_BACKGROUND: i64 = 0;
pub const PRIORITY_WAITING: i64 = 10;

/// How a job attempt ended.
pub enum Outcome {
    Done,
    /// The track is gone: nothing to do, the job is dropped.
    Gone,
    /// The lease was lost or the input changed; someone else owns the job now.
    Superseded,
}

/// Why a job attempt failed.
pub struct JobError {
    pub message: String,
    /// Retrying cannot help (a corrupt file).
    pub permanent: bool,
}

impl JobError {
    pub fn retry(e: impl std::fmt::Display) -> JobError {
        JobError {
            message: e.to_string(),
            permanent: false,
        }
    }
}

impl From<MediaError> for JobError {
    fn from(e: MediaError) -> JobError {
        let permanent = matches!(
            e,
            MediaError::NotAudio | MediaError::Corrupt(_) | MediaError::Unsupported(_)
        );
        JobError {
            message: e.to_string(),
            permanent,
        }
    }
}

impl From<tonearm_store::StoreError> for JobError {
    fn from(e: tonearm_store::StoreError) -> JobError {
        JobError::retry(e)
    }
}

/// Where a job attempt writes its output (recorded at claim time; see `jobs.output`).
pub fn output_prefix(kind: &str, track_id: &str, job_id: i64, attempt: i64) -> String {
    format!("{kind}/{track_id}/{job_id}-{attempt}")
}

/// This node's stable identity (kept in the data dir, so a restarted node recognizes the jobs
/// it held when it died).
pub fn node_id(data: &std::path::Path) -> String {
    let file = data.join("node.id");
    if let Ok(id) = std::fs::read_to_string(&file) {
        let id = id.trim();
        if !id.is_empty() && id.len() <= 64 {
            return id.to_string();
        }
    }
    let id = crate::auth::tokens::random_token(9);
    let tmp = data.join("node.id.tmp");
    if std::fs::write(&tmp, &id).is_ok() && std::fs::rename(&tmp, &file).is_ok() {
        return id;
    }
    id
}

/// Queues what the catalog is missing (loudness; HLS packages unless `jobs.hls_all` is off;
/// analyses of measured tracks unless `jobs.analysis_all` is off) and wakes the workers.
pub async fn enqueue_missing(st: &AppState) {
    let mut queued = st.store.enqueue_missing(st.config.jobs.hls_all).await;
    if st.config.jobs.analysis_all {
        if let Ok(n) = &mut queued {
            match st
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
            st.jobs_wake.notify_waiters();
        }
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "could not queue processing jobs"),
    }
}

/// Queues every job of one track (after an upload), or re-runs them with `force`.
pub async fn enqueue_track(
    st: &AppState,
    track_id: &str,
    force: bool,
) -> Result<(), tonearm_store::StoreError> {
    let Some(src) = st.store.track_source(track_id).await? else {
        return Ok(());
    };
    let input = input_stamp(src.size_bytes, src.mtime_ms);
    if force || src.loudness_lufs.is_none() {
        st.store
            .enqueue_job(LOUDNESS, track_id, &input, PRIORITY_BACKGROUND, force)
            .await?;
    }
    if force || st.config.jobs.hls_all {
        st.store
            .enqueue_job(HLS, track_id, &input, PRIORITY_BACKGROUND, force)
            .await?;
    }
    // Analysis follows loudness (the loudness job queues it); a measured track is queued now.
    if force || (st.config.jobs.analysis_all && src.loudness_lufs.is_some()) {
        st.store
            .enqueue_job(ANALYSIS, track_id, &input, PRIORITY_BACKGROUND, force)
            .await?;
    }
    st.jobs_wake.notify_waiters();
    Ok(())
}

/// Starts this node's workers and the start-up recovery: jobs this node held when it stopped
/// are released, and leftovers of interrupted packaging are swept.
pub fn spawn(st: &AppState) {
    let n = st.config.jobs.workers;
    let st = st.clone();
    tokio::spawn(async move {
        for i in 0..n {
            let name = worker_name(&st, i);
            match st.store.release_jobs_of(&name).await {
                Ok(0) => {}
                Ok(k) => {
                    tracing::warn!(worker = %name, jobs = k, "re-queued jobs interrupted by a restart")
                }
                Err(e) => tracing::error!(error = %e, "could not release interrupted jobs"),
            }
        }
        for i in 0..n {
            tokio::spawn(worker(st.clone(), worker_name(&st, i)));
        }
        // Leftovers of interrupted work: at start, then hourly (a job that died on another
        // node, or whose clean-up failed, leaves objects no package owns).
        let mut every = tokio::time::interval(SWEEP_EVERY);
        loop {
            every.tick().await;
            if let Err(e) = hls::sweep(&st).await {
                tracing::warn!(error = %e, "hls sweep failed");
            }
        }
    });
}

/// Runs queued jobs (of `kind`, or any) in this process until none is runnable (the CLI's
/// `tonearm process` and `tonearm analyze`), calling `progress(done, failed)` after each.
/// Other nodes may take jobs meanwhile: the queue is shared. Returns (done, failed).
pub async fn drain(
    st: &AppState,
    kind: Option<&str>,
    mut progress: impl FnMut(u64, u64),
) -> (u64, u64) {
    let name = format!("{}-cli", st.node_id);
    let lease_ms = (st.config.jobs.lease_secs.max(3) * 1000) as i64;
    let max_tries = st.config.jobs.max_attempts.max(1) as i64;
    let _ = st.store.release_jobs_of(&name).await;
    let (mut done, mut failed) = (0, 0);
    loop {
        let claimed = st
            .store
            .claim_job_of(&name, lease_ms, max_tries, kind, |j| {
                output_prefix(&j.kind, &j.track_id, j.id, j.attempts)
            })
            .await;
        let Ok(Some(job)) = claimed else { break };
        let id = job.id;
        run(st, job, lease_ms).await;
        // Dropped (track gone) counts as done; anything but ready is a failure to report.
        let ok = match st.store.job(id).await {
            Ok(Some(j)) => j.state == tonearm_store::jobs::READY,
            Ok(None) => true,
            Err(_) => false,
        };
        if ok {
            done += 1;
        } else {
            failed += 1;
        }
        progress(done, failed);
    }
    (done, failed)
}

fn worker_name(st: &AppState, i: usize) -> String {
    format!("{}-{i}", st.node_id)
}

/// How often leftovers of interrupted packaging are swept.
const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// How often an idle worker looks for work it was not woken for (retries coming due, jobs
/// queued on other nodes).
const IDLE_POLL: Duration = Duration::from_secs(1);

async fn worker(st: AppState, name: String) {
    let lease_ms = (st.config.jobs.lease_secs.max(3) * 1000) as i64;
    let max_tries = st.config.jobs.max_attempts.max(1) as i64;
    loop {
        let wake = st.jobs_wake.notified();
        let claimed = st
            .store
            .claim_job(&name, lease_ms, max_tries, |j| {
                output_prefix(&j.kind, &j.track_id, j.id, j.attempts)
            })
            .await;
        match claimed {
            Ok(Some(job)) => run(&st, job, lease_ms).await,
            Ok(None) => {
                tokio::select! {
                    _ = wake => {}
                    _ = tokio::time::sleep(IDLE_POLL) => {}
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "job queue unavailable");
                tokio::time::sleep(IDLE_POLL * 2).await;
            }
        }
    }
}

/// Runs one claimed job with a heartbeat, and records how it ended.
pub async fn run(st: &AppState, job: ClaimedJob, lease_ms: i64) {
    let cancel = Arc::new(AtomicBool::new(false));
    let heartbeat = {
        let (st, job, cancel) = (st.clone(), job.clone(), cancel.clone());
        tokio::spawn(async move {
            let every = Duration::from_millis((lease_ms / 3) as u64);
            loop {
                tokio::time::sleep(every).await;
                match st.store.renew_lease(&job, lease_ms).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(job = job.id, "lease lost; stopping");
                        cancel.store(true, Ordering::SeqCst);
                        return;
                    }
                    Err(e) => tracing::warn!(job = job.id, error = %e, "lease renewal failed"),
                }
            }
        })
    };
    let started = std::time::Instant::now();
    let result = match job.kind.as_str() {
        LOUDNESS => loudness(st, &job).await,
        HLS => hls::package(st, &job, &cancel).await,
        ANALYSIS => analysis::analyze(st, &job, &cancel).await,
        other => Err(JobError {
            message: format!("unknown job kind {other:?}"),
            permanent: true,
        }),
    };
    heartbeat.abort();
    let recorded = match result {
        Ok(Outcome::Done) => {
            tracing::info!(job = job.id, kind = %job.kind, track = %job.track_id,
                elapsed_ms = started.elapsed().as_millis() as u64, "job done");
            metrics::counter!("tonearm_jobs_total", "kind" => job.kind.clone(), "outcome" => "done")
                .increment(1);
            // `hls::package` and `analysis::analyze` finish their own jobs (with their output,
            // in one transaction).
            if job.kind == LOUDNESS {
                st.store.finish_job(&job).await.map(|_| ())
            } else {
                Ok(())
            }
        }
        Ok(Outcome::Gone) => st.store.drop_job(&job).await,
        Ok(Outcome::Superseded) => Ok(()),
        Err(e) => {
            let last = job.tries >= st.config.jobs.max_attempts as i64;
            let retry = (!e.permanent && !last).then(|| {
                let base = st.config.jobs.retry_base_secs.max(1) as i64 * 1000;
                base << (job.tries - 1).clamp(0, 10)
            });
            tracing::warn!(job = job.id, kind = %job.kind, track = %job.track_id,
                error = %e.message, retry_in_ms = ?retry, "job failed");
            metrics::counter!("tonearm_jobs_total", "kind" => job.kind.clone(), "outcome" => "failed")
                .increment(1);
            st.store.fail_job(&job, &e.message, retry).await.map(|_| ())
        }
    };
    if let Err(e) = recorded {
        // The lease will lapse and the job run again: nothing is lost.
        tracing::error!(job = job.id, error = %e, "could not record the job's outcome");
    }
}

/// When the file changed since the job was queued, queues it again for the file as it is
/// (the re-queue takes the job from this attempt). Returns whether it did.
pub async fn requeue_if_changed(
    st: &AppState,
    job: &ClaimedJob,
    src: &tonearm_store::TrackSource,
) -> Result<bool, JobError> {
    let now = input_stamp(src.size_bytes, src.mtime_ms);
    if now == job.input {
        return Ok(false);
    }
    st.store
        .enqueue_job(&job.kind, &job.track_id, &now, PRIORITY_BACKGROUND, false)
        .await?;
    Ok(true)
}

/// The file a claimed job works on, or how the job ends without working: the track is gone,
/// or its file changed since the job was queued (then it is queued again for the file as it is).
pub async fn job_source(
    st: &AppState,
    job: &ClaimedJob,
) -> Result<Result<tonearm_store::TrackSource, Outcome>, JobError> {
    let Some(src) = st.store.track_source(&job.track_id).await? else {
        return Ok(Err(Outcome::Gone));
    };
    if requeue_if_changed(st, job, &src).await? {
        return Ok(Err(Outcome::Superseded));
    }
    Ok(Ok(src))
}

async fn loudness(st: &AppState, job: &ClaimedJob) -> Result<Outcome, JobError> {
    let src = match job_source(st, job).await? {
        Ok(src) => src,
        Err(outcome) => return Ok(outcome),
    };
    match crate::loudness::measure_and_store(st, &src).await {
        Ok(_) => {
            if st.config.jobs.analysis_all {
                st.store
                    .enqueue_job(
                        ANALYSIS,
                        &job.track_id,
                        &job.input,
                        PRIORITY_BACKGROUND,
                        false,
                    )
                    .await?;
                st.jobs_wake.notify_waiters();
            }
            Ok(Outcome::Done)
        }
        Err(e) if e.status == axum::http::StatusCode::CONFLICT => {
            // The file changed while it was measured: queue it for the file as it is now.
            if let Some(now) = st.store.track_source(&job.track_id).await? {
                requeue_if_changed(st, job, &now).await?;
            }
            Ok(Outcome::Superseded)
        }
        Err(e) => Err(JobError {
            message: e.message.clone(),
            permanent: e.status == axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        }),
    }
}
