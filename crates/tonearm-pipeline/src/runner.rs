//! The job runner: workers claim jobs under a lease, a heartbeat renews it while the job's kind
//! works (a lost lease cancels the work), and the outcome is recorded: done, dropped, or failed
//! with a retry after an exponential backoff (never for input that cannot succeed).

use crate::Pipeline;
use futures_util::future::BoxFuture;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tonearm_media::MediaError;
use tonearm_store::ClaimedJob;

/// How often an idle worker looks for work it was not woken for (retries coming due, jobs
/// queued on other nodes).
const IDLE_POLL: Duration = Duration::from_secs(1);

/// One kind of job: what runs a claimed job of that name.
pub trait JobKind: Send + Sync + 'static {
    /// The name jobs of this kind carry in the queue.
    fn name(&self) -> &'static str;

    /// Works on one claimed job. `cancel` turns true when the lease is lost: stop soon, the
    /// job belongs to someone else now.
    fn run<'a>(
        &'a self,
        p: &'a Pipeline,
        job: &'a ClaimedJob,
        cancel: &'a Arc<AtomicBool>,
    ) -> BoxFuture<'a, Result<Outcome, JobError>>;

    /// Removes outputs of interrupted attempts that nothing owns; returns how many. Runs at
    /// start and hourly. Kinds whose output is only a database row have nothing to sweep.
    fn sweep<'a>(&'a self, _p: &'a Pipeline) -> BoxFuture<'a, Result<u64, String>> {
        Box::pin(async { Ok(0) })
    }
}

/// How a job attempt ended.
#[derive(Debug)]
pub enum Outcome {
    /// Done; the runner marks the job finished.
    Done,
    /// Done, and the kind already finished the job together with its output (one
    /// transaction, under the lease).
    Published,
    /// The track is gone: nothing to do, the job is dropped.
    Gone,
    /// The lease was lost or the input changed; someone else owns the job now.
    Superseded,
}

/// Why a job attempt failed.
#[derive(Debug)]
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

fn lease_ms(p: &Pipeline) -> i64 {
    (p.config.lease_secs.max(3) * 1000) as i64
}

fn max_tries(p: &Pipeline) -> i64 {
    p.config.max_attempts.max(1) as i64
}

/// One worker: claims and runs jobs until the process ends.
pub(crate) async fn worker(p: Arc<Pipeline>, name: String) {
    loop {
        let wake = p.wake.notified();
        let claimed = p
            .store
            .claim_job(&name, lease_ms(&p), max_tries(&p), |j| {
                crate::output_prefix(&j.kind, &j.track_id, j.id, j.attempts)
            })
            .await;
        match claimed {
            Ok(Some(job)) => run(&p, job).await,
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

/// Runs queued jobs (of `kind`, or any) until none is runnable; see [`Pipeline::drain`].
pub(crate) async fn drain(
    p: &Pipeline,
    kind: Option<&str>,
    mut progress: impl FnMut(u64, u64),
) -> (u64, u64) {
    let name = format!("{}-cli", p.node_id);
    let _ = p.store.release_jobs_of(&name).await;
    let (mut done, mut failed) = (0, 0);
    loop {
        let claimed = p
            .store
            .claim_job_of(&name, lease_ms(p), max_tries(p), kind, |j| {
                crate::output_prefix(&j.kind, &j.track_id, j.id, j.attempts)
            })
            .await;
        let Ok(Some(job)) = claimed else { break };
        let id = job.id;
        run(p, job).await;
        // Dropped (track gone) counts as done; anything but ready is a failure to report.
        let ok = match p.store.job(id).await {
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

/// Runs one claimed job with a heartbeat, and records how it ended.
async fn run(p: &Pipeline, job: ClaimedJob) {
    let lease_ms = lease_ms(p);
    let cancel = Arc::new(AtomicBool::new(false));
    let heartbeat = {
        let (store, job, cancel) = (p.store.clone(), job.clone(), cancel.clone());
        tokio::spawn(async move {
            let every = Duration::from_millis((lease_ms / 3) as u64);
            loop {
                tokio::time::sleep(every).await;
                match store.renew_lease(&job, lease_ms).await {
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
    let result = match p.kind(&job.kind) {
        Some(kind) => kind.run(p, &job, &cancel).await,
        None => Err(JobError {
            message: format!("unknown job kind {:?}", job.kind),
            permanent: true,
        }),
    };
    heartbeat.abort();
    let recorded = match result {
        Ok(done @ (Outcome::Done | Outcome::Published)) => {
            tracing::info!(job = job.id, kind = %job.kind, track = %job.track_id,
                elapsed_ms = started.elapsed().as_millis() as u64, "job done");
            metrics::counter!("tonearm_jobs_total", "kind" => job.kind.clone(), "outcome" => "done")
                .increment(1);
            match done {
                Outcome::Done => p.store.finish_job(&job).await.map(|_| ()),
                _ => Ok(()),
            }
        }
        Ok(Outcome::Gone) => p.store.drop_job(&job).await,
        Ok(Outcome::Superseded) => Ok(()),
        Err(e) => {
            let last = job.tries >= p.config.max_attempts as i64;
            let retry = (!e.permanent && !last).then(|| {
                let base = p.config.retry_base_secs.max(1) as i64 * 1000;
                base << (job.tries - 1).clamp(0, 10)
            });
            tracing::warn!(job = job.id, kind = %job.kind, track = %job.track_id,
                error = %e.message, retry_in_ms = ?retry, "job failed");
            metrics::counter!("tonearm_jobs_total", "kind" => job.kind.clone(), "outcome" => "failed")
                .increment(1);
            p.store.fail_job(&job, &e.message, retry).await.map(|_| ())
        }
    };
    if let Err(e) = recorded {
        // The lease will lapse and the job run again: nothing is lost.
        tracing::error!(job = job.id, error = %e, "could not record the job's outcome");
    }
}
