//! Track loudness (EBU R128) for `normalize=1`: measured by `loudness` jobs, or on first use
//! when a stream asks before the job ran. A measured track is queued for analysis.

use crate::{JobError, JobKind, Outcome, Pipeline, ANALYSIS, PRIORITY_BACKGROUND};
use futures_util::future::BoxFuture;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use tonearm_media::loudness::{measure, normalization_gain, Loudness};
use tonearm_store::{ClaimedJob, StoreError, TrackSource};

/// Why a track's loudness could not be had.
#[derive(Debug, thiserror::Error)]
pub enum LoudnessError {
    /// The file does not decode (retrying cannot help).
    #[error("{0}")]
    Unreadable(String),
    /// The file changed while it was measured; the new file gets its own measurement.
    #[error("the file changed while it was measured")]
    Changed,
    #[error("the track is gone")]
    Gone,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("measurement failed: {0}")]
    Task(String),
}

/// The `loudness` kind.
pub struct LoudnessJob;

impl JobKind for LoudnessJob {
    fn name(&self) -> &'static str {
        crate::LOUDNESS
    }

    fn run<'a>(
        &'a self,
        p: &'a Pipeline,
        job: &'a ClaimedJob,
        _cancel: &'a Arc<AtomicBool>,
    ) -> BoxFuture<'a, Result<Outcome, JobError>> {
        Box::pin(run(p, job))
    }
}

async fn run(p: &Pipeline, job: &ClaimedJob) -> Result<Outcome, JobError> {
    let src = match p.job_source(job).await? {
        Ok(src) => src,
        Err(outcome) => return Ok(outcome),
    };
    match measure_and_store(p, &src).await {
        Ok(_) => {
            if p.config.analysis_all {
                p.store
                    .enqueue_job(
                        ANALYSIS,
                        &job.track_id,
                        &job.input,
                        PRIORITY_BACKGROUND,
                        false,
                    )
                    .await?;
                p.wake();
            }
            Ok(Outcome::Done)
        }
        Err(LoudnessError::Changed) => {
            // The file changed while it was measured: queue it for the file as it is now.
            if let Some(now) = p.store.track_source(&job.track_id).await? {
                p.requeue_if_changed(job, &now).await?;
            }
            Ok(Outcome::Superseded)
        }
        Err(e @ LoudnessError::Unreadable(_)) => Err(JobError {
            message: e.to_string(),
            permanent: true,
        }),
        Err(e) => Err(JobError::retry(e)),
    }
}

async fn measure_and_store(p: &Pipeline, src: &TrackSource) -> Result<Loudness, LoudnessError> {
    let path = PathBuf::from(&src.path);
    let l = tokio::task::spawn_blocking(move || measure(&path))
        .await
        .map_err(|e| LoudnessError::Task(e.to_string()))?
        .map_err(|e| LoudnessError::Unreadable(e.to_string()))?;
    // Silence measures -inf: store the gate floor so it is not measured again.
    let lufs = if l.integrated_lufs.is_finite() {
        l.integrated_lufs
    } else {
        -70.0
    };
    let stamp = tonearm_store::FileStamp {
        size_bytes: src.size_bytes,
        mtime_ms: src.mtime_ms,
    };
    if !p
        .store
        .set_loudness(&src.id, stamp, lufs, l.true_peak)
        .await?
    {
        return Err(LoudnessError::Changed);
    }
    Ok(Loudness {
        integrated_lufs: lufs,
        true_peak: l.true_peak,
    })
}

impl Pipeline {
    /// The linear normalization gain of a track, measuring it first if it never was (one
    /// measurement at a time: each decodes a whole track).
    pub async fn track_gain(&self, src: &TrackSource) -> Result<f32, LoudnessError> {
        let known = |s: &TrackSource| {
            Some(normalization_gain(Loudness {
                integrated_lufs: s.loudness_lufs?,
                true_peak: s.true_peak?,
            }))
        };
        if let Some(gain) = known(src) {
            return Ok(gain);
        }
        let _one_at_a_time = self.loudness_lock.lock().await;
        // Someone may have measured it while we waited.
        let fresh = self
            .store
            .track_source(&src.id)
            .await?
            .ok_or(LoudnessError::Gone)?;
        if let Some(gain) = known(&fresh) {
            return Ok(gain);
        }
        Ok(normalization_gain(measure_and_store(self, &fresh).await?))
    }
}
