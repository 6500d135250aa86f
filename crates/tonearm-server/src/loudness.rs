//! Track loudness for `normalize=1`: measured by the pipeline's `loudness` jobs, or on first use.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use std::path::PathBuf;
use tonearm_media::loudness::{measure, normalization_gain, Loudness};
use tonearm_store::TrackSource;

pub(crate) async fn measure_and_store(st: &AppState, src: &TrackSource) -> ApiResult<Loudness> {
    let path = PathBuf::from(&src.path);
    let l = tokio::task::spawn_blocking(move || measure(&path))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| {
            ApiError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "unreadable",
                e.to_string(),
            )
        })?;
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
    if !st
        .store
        .set_loudness(&src.id, stamp, lufs, l.true_peak)
        .await?
    {
        // The file changed while it was measured: the new file gets its own measurement.
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "changed",
            "the file changed while it was measured",
        ));
    }
    Ok(Loudness {
        integrated_lufs: lufs,
        true_peak: l.true_peak,
    })
}

/// The linear normalization gain of a track, measuring it first if it never was.
pub async fn track_gain(st: &AppState, src: &TrackSource) -> ApiResult<f32> {
    if let (Some(lufs), Some(tp)) = (src.loudness_lufs, src.true_peak) {
        return Ok(normalization_gain(Loudness {
            integrated_lufs: lufs,
            true_peak: tp,
        }));
    }
    let _one_at_a_time = st.loudness_lock.lock().await;
    // Someone may have measured it while we waited.
    let fresh = st
        .store
        .track_source(&src.id)
        .await?
        .ok_or_else(|| ApiError::not_found("track"))?;
    if let (Some(lufs), Some(tp)) = (fresh.loudness_lufs, fresh.true_peak) {
        return Ok(normalization_gain(Loudness {
            integrated_lufs: lufs,
            true_peak: tp,
        }));
    }
    Ok(normalization_gain(measure_and_store(st, &fresh).await?))
}
