//! The `analysis` job: tempo, key, features and embedding of one track (`tonearm_analysis`,
//! driven by `tonearm_library::analysis`), stored with the job's completion in one transaction.
//! Audio that decodes but cannot be analysed (silent, too short), or that does not decode at
//! all, is stored as "not analysable" with the reason: a result, not a failure to retry.

use crate::{JobError, JobKind, Outcome, Pipeline};
use futures_util::future::BoxFuture;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use tonearm_analysis::Analysis;
use tonearm_media::MediaError;
use tonearm_store::{ClaimedJob, TrackAnalysis, ANALYSIS_READY, NOT_ANALYSABLE};

/// The `analysis` kind.
pub struct AnalysisJob;

impl JobKind for AnalysisJob {
    fn name(&self) -> &'static str {
        crate::ANALYSIS
    }

    fn run<'a>(
        &'a self,
        p: &'a Pipeline,
        job: &'a ClaimedJob,
        cancel: &'a Arc<AtomicBool>,
    ) -> BoxFuture<'a, Result<Outcome, JobError>> {
        Box::pin(analyze(p, job, cancel))
    }
}

async fn analyze(
    p: &Pipeline,
    job: &ClaimedJob,
    cancel: &Arc<AtomicBool>,
) -> Result<Outcome, JobError> {
    let src = match p.job_source(job).await? {
        Ok(src) => src,
        Err(outcome) => return Ok(outcome),
    };
    let path = std::path::PathBuf::from(&src.path);
    let cancel = cancel.clone();
    let made = tokio::task::spawn_blocking(move || {
        tonearm_library::analysis::analyze_file(&path, &cancel)
    })
    .await
    .map_err(JobError::retry)?;
    let mut row = TrackAnalysis {
        track_id: job.track_id.clone(),
        input: job.input.clone(),
        version: tonearm_analysis::ALGORITHM_VERSION as i64,
        analyzed_at_ms: tonearm_store::now_ms(),
        ..Default::default()
    };
    match made {
        Ok(Ok(a)) => fill(&mut row, &a).map_err(JobError::retry)?,
        Ok(Err(not)) => not_analysable(&mut row, not.to_string()),
        Err(MediaError::Cancelled) => return Ok(Outcome::Superseded),
        Err(e @ (MediaError::NotAudio | MediaError::Corrupt(_) | MediaError::Unsupported(_))) => {
            not_analysable(&mut row, format!("does not decode: {e}"))
        }
        Err(e) => return Err(e.into()),
    }
    if p.store.publish_analysis(job, &row).await? {
        Ok(Outcome::Published)
    } else {
        Ok(Outcome::Superseded)
    }
}

fn not_analysable(row: &mut TrackAnalysis, reason: String) {
    row.state = NOT_ANALYSABLE.into();
    row.reason = Some(reason);
}

fn fill(row: &mut TrackAnalysis, a: &Analysis) -> Result<(), serde_json::Error> {
    row.state = ANALYSIS_READY.into();
    row.bpm = a.tempo.map(|t| t.bpm);
    row.bpm_confidence = a.tempo.map(|t| t.confidence);
    row.key_name = a.key.map(|k| k.name());
    row.key_tonic = a.key.map(|k| k.tonic as i64);
    row.key_minor = a.key.map(|k| k.minor);
    row.key_strength = a.key.map(|k| k.strength);
    row.energy = Some(a.scores.energy);
    row.danceability = Some(a.scores.danceability);
    row.acousticness = Some(a.scores.acousticness);
    row.embedding = Some(a.embedding.iter().flat_map(|v| v.to_le_bytes()).collect());
    row.detail = Some(serde_json::to_string(a)?);
    Ok(())
}
