//! Operating the server: `/health` and `/metrics`.

use crate::observe::{cpu_seconds, rss_bytes};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::sync::atomic::Ordering;

/// `GET /health`: 200 when the database answers, 503 otherwise.
pub async fn health(State(st): State<AppState>) -> Response {
    let db = match tokio::time::timeout(std::time::Duration::from_secs(2), st.store.ping()).await {
        Ok(Ok(())) => "ok".to_string(),
        Ok(Err(e)) => format!("error: {e}"),
        Err(_) => "error: timeout".to_string(),
    };
    let (entries, bytes) = st.cache.memory_usage();
    let queue: serde_json::Map<String, serde_json::Value> = st
        .store
        .job_counts()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|(state, n)| (state, n.into()))
        .collect();
    let status = if db == "ok" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if status == StatusCode::OK { "ok" } else { "degraded" },
        "uptime_s": st.started.elapsed().as_secs(),
        "memory": { "rss_bytes": rss_bytes() },
        "cache": { "entries": entries, "bytes": bytes, "hit_ratio": st.cache.stats.hit_ratio() },
        "streams_active": st.active_streams.load(Ordering::Relaxed),
        "jobs": {
            "scan_running": st.scan.is_running(),
            "queue": queue,
            "busy": st.background_jobs.load(Ordering::SeqCst) > 0,
        },
        "db": db,
    });
    (status, Json(body)).into_response()
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(st): State<AppState>) -> Response {
    let Some(handle) = &st.metrics else {
        return (StatusCode::NOT_FOUND, "metrics recorder not installed").into_response();
    };
    let s = &st.cache.stats;
    let (entries, bytes) = st.cache.memory_usage();
    metrics::gauge!("tonearm_streams_active").set(st.active_streams.load(Ordering::Relaxed) as f64);
    metrics::gauge!("tonearm_cache_entries").set(entries as f64);
    metrics::gauge!("tonearm_cache_bytes").set(bytes as f64);
    metrics::gauge!("tonearm_transcodes_running").set(st.cache.running() as f64);
    for (name, v) in [
        ("memory", &s.memory_hits),
        ("disk", &s.disk_hits),
        ("shared", &s.shared),
    ] {
        metrics::counter!("tonearm_cache_hits_total", "tier" => name)
            .absolute(v.load(Ordering::Relaxed));
    }
    metrics::counter!("tonearm_cache_misses_total").absolute(s.misses.load(Ordering::Relaxed));
    metrics::counter!("tonearm_cache_evictions_total")
        .absolute(s.evictions.load(Ordering::Relaxed));
    metrics::counter!("tonearm_transcode_bytes_served_total")
        .absolute(s.bytes_served.load(Ordering::Relaxed));
    metrics::counter!("tonearm_encodes_started_total")
        .absolute(s.encodes_started.load(Ordering::Relaxed));
    metrics::counter!("tonearm_encodes_cancelled_total")
        .absolute(s.encodes_cancelled.load(Ordering::Relaxed));
    metrics::counter!("tonearm_encodes_failed_total")
        .absolute(s.encodes_failed.load(Ordering::Relaxed));
    let scan = st.scan.status();
    metrics::gauge!("tonearm_scan_running").set(if scan.running { 1.0 } else { 0.0 });
    metrics::gauge!("tonearm_scan_files_found").set(scan.found as f64);
    metrics::gauge!("tonearm_scan_files_failed").set(scan.failed as f64);
    metrics::gauge!("tonearm_process_rss_bytes").set(rss_bytes() as f64);
    metrics::gauge!("tonearm_process_cpu_seconds").set(cpu_seconds());
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
        .into_response()
}
