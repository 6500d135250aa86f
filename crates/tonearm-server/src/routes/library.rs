//! Library maintenance: start a scan, watch it, list skipped files.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::sync::atomic::Ordering;

/// Starts a scan in the background unless one is running. Returns whether it started.
pub fn start_scan(st: &AppState) -> bool {
    if st.scan.try_start().is_err() {
        return false;
    }
    let st = st.clone();
    // Counted before the task starts and released after its last step, so "idle" on /health
    // never shows between the scan and the loudness pass.
    st.background_jobs.fetch_add(1, Ordering::SeqCst);
    tokio::spawn(async move {
        let roots = st.config.library_dirs();
        match tonearm_library::scan(&st.store, &roots, &st.scan).await {
            Ok(r) => tracing::info!(
                found = r.found,
                updated = r.added_or_updated,
                unchanged = r.unchanged,
                failed = r.failed,
                removed = r.removed,
                elapsed_ms = r.elapsed_ms,
                "scan finished"
            ),
            Err(e) => tracing::error!(error = %e, "scan failed"),
        }
        st.pipeline.enqueue_missing().await;
        st.background_jobs.fetch_sub(1, Ordering::SeqCst);
    });
    true
}

/// `POST /api/library/scan` → 202 with the scan status, or 409 while one runs.
pub async fn post_scan(State(st): State<AppState>) -> ApiResult<Response> {
    if !start_scan(&st) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "scan_running",
            "a scan is already running",
        ));
    }
    Ok((StatusCode::ACCEPTED, Json(st.scan.status())).into_response())
}

/// `GET /api/library/scan`
pub async fn get_scan(State(st): State<AppState>) -> Json<tonearm_library::scan::ScanStatus> {
    Json(st.scan.status())
}

/// `GET /api/library/issues`: files skipped by the scanner, with reasons.
pub async fn get_issues(State(st): State<AppState>) -> ApiResult<Response> {
    let items = st.store.scan_issues().await?;
    Ok(Json(serde_json::json!({ "total": items.len(), "items": items })).into_response())
}
