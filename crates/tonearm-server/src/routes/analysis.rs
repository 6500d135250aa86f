//! `GET /api/tracks/{id}/analysis`: a track's audio analysis, or 202 with its job while it is
//! queued or running (asking queues it ahead of the background backlog).

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use tonearm_analysis::{embedding, key::PITCH_CLASSES, Analysis, ALGORITHM_VERSION};
use tonearm_pipeline::{ANALYSIS, PRIORITY_WAITING};
use tonearm_store::jobs::{FAILED, PENDING, PROCESSING};
use tonearm_store::{input_stamp, JobFilter, TrackAnalysis, NOT_ANALYSABLE};

pub async fn get(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let Some(src) = st.store.track_source(&id).await? else {
        return Err(ApiError::not_found("track"));
    };
    let stored = st.store.track_analysis(&id).await?;
    if let Some(a) = stored
        .as_ref()
        .filter(|a| a.version >= ALGORITHM_VERSION as i64)
    {
        return Ok(Json(body(a, src.loudness_lufs)?).into_response());
    }
    let mut job = analysis_job(&st, &id).await?;
    let running = job
        .as_ref()
        .is_some_and(|j| j.state == PENDING || j.state == PROCESSING);
    let failed = job.as_ref().is_some_and(|j| j.state == FAILED);
    if !running && !failed {
        // Never queued, or done for an older file or algorithm: queue it now, ahead of the
        // background work (a job that finished for this file is re-run: `force`).
        let input = input_stamp(src.size_bytes, src.mtime_ms);
        let force = job.is_some();
        st.store
            .enqueue_job(ANALYSIS, &id, &input, PRIORITY_WAITING, force)
            .await?;
        st.pipeline.wake();
        job = analysis_job(&st, &id).await?;
    }
    let state = if failed { "failed" } else { "pending" };
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "state": state, "track_id": id, "job": job })),
    )
        .into_response())
}

/// The track's analysis job, if it has one.
async fn analysis_job(
    st: &AppState,
    id: &str,
) -> Result<Option<tonearm_store::Job>, tonearm_store::StoreError> {
    let mut jobs = st
        .store
        .jobs(&JobFilter {
            kind: Some(ANALYSIS.into()),
            track_id: Some(id.into()),
            limit: 1,
            ..Default::default()
        })
        .await?;
    Ok(jobs.pop())
}

/// The API shape of a stored analysis.
fn body(a: &TrackAnalysis, loudness_lufs: Option<f64>) -> ApiResult<Value> {
    if a.state == NOT_ANALYSABLE {
        return Ok(json!({
            "state": NOT_ANALYSABLE,
            "track_id": a.track_id,
            "version": a.version,
            "reason": a.reason,
        }));
    }
    let detail: Analysis = serde_json::from_str(a.detail.as_deref().unwrap_or("null"))
        .map_err(|e| ApiError::internal(format!("stored analysis: {e}")))?;
    let key = detail.key.map(|k| {
        json!({
            "name": k.name(),
            "tonic": PITCH_CLASSES[k.tonic as usize % 12],
            "mode": if k.minor { "minor" } else { "major" },
            "strength": k.strength,
            "camelot": k.camelot(),
        })
    });
    Ok(json!({
        "state": a.state,
        "track_id": a.track_id,
        "version": a.version,
        "duration_s": detail.duration_s,
        "tempo": detail.tempo,
        "beats": detail.beats,
        "key": key,
        "tuning": detail.tuning,
        "loudness_lufs": loudness_lufs,
        "scores": detail.scores,
        "features": detail.features,
        "timeline": detail.timeline,
        "embedding": { "version": embedding::EMBEDDING_VERSION, "values": detail.embedding },
    }))
}
