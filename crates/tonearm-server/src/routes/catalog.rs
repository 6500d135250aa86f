//! Catalog reads: tracks, albums, artists and covers.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use tonearm_library::text::fold;
use tonearm_store::{SortOrder, TrackFilter, TrackSort};

/// Most items a page may hold.
pub const MAX_LIMIT: i64 = 500;

#[derive(Debug, Deserialize)]
pub struct TrackQuery {
    q: Option<String>,
    artist: Option<String>,
    album: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
    sort: Option<String>,
    order: Option<String>,
    bpm_min: Option<f64>,
    bpm_max: Option<f64>,
    key: Option<String>,
}

/// `GET /api/tracks?q=&artist=&album=&bpm_min=&bpm_max=&key=&limit=&offset=&sort=&order=`
pub async fn list_tracks(
    State(st): State<AppState>,
    q: Result<Query<TrackQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = q?;
    let limit = q.limit.unwrap_or(100);
    let offset = q.offset.unwrap_or(0);
    if !(1..=MAX_LIMIT).contains(&limit) || offset < 0 {
        return Err(ApiError::bad_request(format!(
            "limit must be 1..={MAX_LIMIT} and offset >= 0"
        )));
    }
    let sort = match q.sort.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(name) => {
            let column = TrackSort::parse(name).ok_or_else(|| {
                ApiError::bad_request(
                    "sort must be title, artist, album, year, duration, format, bpm, key or energy",
                )
            })?;
            let order = match q.order.as_deref() {
                None | Some("" | "asc") => SortOrder::Asc,
                Some("desc") => SortOrder::Desc,
                Some(_) => return Err(ApiError::bad_request("order must be asc or desc")),
            };
            Some((column, order))
        }
    };
    for b in [q.bpm_min, q.bpm_max].into_iter().flatten() {
        if !(0.0..=1000.0).contains(&b) {
            return Err(ApiError::bad_request(
                "bpm_min and bpm_max must be 0..=1000",
            ));
        }
    }
    let key = match q.key.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        None => None,
        Some(k) => Some(
            tonearm_analysis::Key::parse(k)
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "key must name a key: \"A minor\", \"Am\", \"F# major\", \"Gb\" or a Camelot code like \"8A\"",
                    )
                })?
                .name(),
        ),
    };
    let words = q.q.as_deref().map(fold).unwrap_or_default();
    let filter = TrackFilter {
        words: words
            .split_whitespace()
            .take(16)
            .map(str::to_string)
            .collect(),
        artist: q.artist.filter(|s| !s.is_empty()),
        album: q.album.filter(|s| !s.is_empty()),
        limit,
        offset,
        sort,
        bpm_min: q.bpm_min,
        bpm_max: q.bpm_max,
        key,
    };
    let (items, total) = st.store.tracks(&filter).await?;
    Ok(
        Json(json!({ "items": items, "total": total, "limit": limit, "offset": offset }))
            .into_response(),
    )
}

/// `GET /api/tracks/{id}`
pub async fn get_track(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let t = st
        .store
        .track(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("track"))?;
    Ok(Json(t).into_response())
}

/// `GET /api/albums`
pub async fn list_albums(State(st): State<AppState>) -> ApiResult<Response> {
    let items = st.store.albums().await?;
    Ok(Json(json!({ "total": items.len(), "items": items })).into_response())
}

/// `GET /api/albums/{id}`: the album and its tracks in order.
pub async fn get_album(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let album = st
        .store
        .album(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("album"))?;
    let filter = TrackFilter {
        album: Some(id),
        limit: 10_000,
        ..Default::default()
    };
    let (tracks, _) = st.store.tracks(&filter).await?;
    Ok(Json(json!({ "album": album, "tracks": tracks })).into_response())
}

/// `GET /api/artists`
pub async fn list_artists(State(st): State<AppState>) -> ApiResult<Response> {
    let items = st.store.artists().await?;
    Ok(Json(json!({ "total": items.len(), "items": items })).into_response())
}

/// `GET /api/artists/{id}`: the artist and the albums they appear on.
pub async fn get_artist(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let artist = st
        .store
        .artist(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("artist"))?;
    let albums = st.store.artist_albums(&id).await?;
    Ok(Json(json!({ "artist": artist, "albums": albums })).into_response())
}

#[derive(Debug, Deserialize)]
pub struct CoverQuery {
    size: Option<u32>,
}

/// `GET /api/tracks/{id}/cover?size=N`: JPEG fitted in N×N (default 300), kept in object storage.
pub async fn get_cover(
    State(st): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    q: Result<Query<CoverQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = q?;
    let size = q.size.unwrap_or(300);
    if !(16..=2000).contains(&size) {
        return Err(ApiError::bad_request("size must be 16..=2000"));
    }
    let src = st
        .store
        .track_source(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("track"))?;
    let cover = src
        .cover
        .clone()
        .ok_or_else(|| ApiError::not_found("cover"))?;
    let etag = format!("\"cover-{}-{}-{:x}\"", src.id, size, src.mtime_ms);
    let cache_headers = [
        (header::ETAG, etag.clone()),
        (header::CACHE_CONTROL, "private, max-age=86400".to_string()),
    ];
    if crate::http_range::if_none_match(&headers, &etag) {
        return Ok((StatusCode::NOT_MODIFIED, cache_headers).into_response());
    }
    // Resized covers live in object storage (a folder, or the bucket every node shares).
    let key = format!("covers/{}-{}-{:x}.jpg", src.id, size, src.mtime_ms);
    let bytes = match st.pipeline.objects.get(&key).await {
        Ok(b) => b.to_vec(),
        Err(_) => {
            let path = std::path::PathBuf::from(&src.path);
            let made = tokio::task::spawn_blocking(move || {
                let original = tonearm_library::cover::original_cover(&path, &cover)?;
                tonearm_library::cover::resize_to_jpeg(&original, size)
            })
            .await
            .map_err(ApiError::internal)?;
            let jpeg = made.map_err(|e| match e {
                tonearm_library::cover::CoverError::Missing => ApiError::not_found("cover"),
                other => ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "bad_cover",
                    other.to_string(),
                ),
            })?;
            // A put is atomic: a concurrent reader gets the whole image or makes its own.
            if let Err(e) = st.pipeline.objects.put(&key, jpeg.clone().into()).await {
                tracing::warn!(error = %e, "could not store a resized cover");
            }
            jpeg
        }
    };
    Ok((
        [(header::CONTENT_TYPE, "image/jpeg".to_string())],
        cache_headers,
        bytes,
    )
        .into_response())
}
