//! The processing pipeline as the API shows it: the job list (admins), one track's status
//! (anyone who may play it), and queueing work by hand (admins; `tonearm process` does the
//! same from the CLI).

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use tonearm_store::jobs::{FAILED, PENDING, PROCESSING, READY};
use tonearm_store::JobFilter;

#[derive(Deserialize)]
pub struct ListQuery {
    state: Option<String>,
    kind: Option<String>,
    track: Option<String>,
    limit: Option<i64>,
}

/// `GET /api/jobs?state=&kind=&track=&limit=`: newest first, with counts per state.
pub async fn list(State(st): State<AppState>, Query(q): Query<ListQuery>) -> ApiResult<Response> {
    if let Some(s) = &q.state {
        if ![PENDING, PROCESSING, READY, FAILED].contains(&s.as_str()) {
            return Err(ApiError::bad_request(
                "state must be pending, processing, ready or failed",
            ));
        }
    }
    let items = st
        .store
        .jobs(&JobFilter {
            state: q.state,
            kind: q.kind,
            track_id: q.track,
            limit: q.limit.unwrap_or(100),
        })
        .await?;
    let counts: serde_json::Map<String, serde_json::Value> = st
        .store
        .job_counts()
        .await?
        .into_iter()
        .map(|(s, n)| (s, n.into()))
        .collect();
    Ok(Json(json!({ "items": items, "counts": counts })).into_response())
}

/// `GET /api/tracks/{id}/processing`: the track's overall status (`failed` if any job failed,
/// else `processing`, `pending`, or `ready` when every job is done) and its jobs.
pub async fn track_status(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    if st.store.track_source(&id).await?.is_none() {
        return Err(ApiError::not_found("track"));
    }
    let jobs = st
        .store
        .jobs(&JobFilter {
            track_id: Some(id),
            limit: 20,
            ..Default::default()
        })
        .await?;
    let status = [FAILED, PROCESSING, PENDING]
        .into_iter()
        .find(|s| jobs.iter().any(|j| j.state == *s))
        .unwrap_or(READY);
    let reason = jobs.iter().find_map(|j| j.error.clone());
    Ok(Json(json!({ "status": status, "reason": reason, "jobs": jobs })).into_response())
}

#[derive(Deserialize)]
pub struct ProcessBody {
    /// Every track's missing work (what a scan queues).
    #[serde(default)]
    all: bool,
    /// These tracks, all their jobs re-run.
    #[serde(default)]
    tracks: Vec<String>,
}

/// `POST /api/jobs {"all": true}` or `{"tracks": [...]}` → 202.
pub async fn process(
    State(st): State<AppState>,
    Json(b): Json<ProcessBody>,
) -> ApiResult<Response> {
    if b.all != b.tracks.is_empty() {
        return Err(ApiError::bad_request(
            "give either \"all\": true or \"tracks\"",
        ));
    }
    if b.tracks.len() > 1000 {
        return Err(ApiError::bad_request("at most 1000 tracks at a time"));
    }
    if b.all {
        st.pipeline.enqueue_missing().await;
    }
    for id in &b.tracks {
        if st.store.track_source(id).await?.is_none() {
            return Err(ApiError::not_found("track"));
        }
    }
    for id in &b.tracks {
        st.pipeline.enqueue_track(id, true).await?;
    }
    Ok((StatusCode::ACCEPTED, Json(json!({ "queued": true }))).into_response())
}
