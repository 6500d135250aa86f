//! Encrypted HLS: master and variant playlists rendered from the published package's manifest,
//! its init and media segments (from the segment cache or object storage, ranges included),
//! and the AES-128 key behind a signed, expiring, rate-limited URL.
//!
//! A track without a package answers 409 with its job's status and queues the job ahead of the
//! background backlog; players retry (`Retry-After`).

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http_range;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;
use tonearm_media::hls::{playlist, Manifest, Variant};
use tonearm_pipeline::{HLS, PRIORITY_WAITING};
use tonearm_store::{input_stamp, HlsPackage, JobFilter};

const PLAYLIST: &str = "application/vnd.apple.mpegurl";

/// The published package of a track, or the 409/404 answer explaining why there is none.
async fn published(st: &AppState, id: &str) -> Result<(HlsPackage, Manifest), Response> {
    match st.store.hls_package(id).await {
        Ok(Some(p)) => match serde_json::from_str(&p.manifest) {
            Ok(m) => Ok((p, m)),
            Err(e) => Err(ApiError::internal(format!("package manifest: {e}")).into_response()),
        },
        Ok(None) => Err(not_ready(st, id).await),
        Err(e) => Err(ApiError::from(e).into_response()),
    }
}

/// 409 with the job's state, after making sure the job is queued (and urgent).
async fn not_ready(st: &AppState, id: &str) -> Response {
    let src = match st.store.track_source(id).await {
        Ok(Some(s)) => s,
        Ok(None) => return ApiError::not_found("track").into_response(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let input = input_stamp(src.size_bytes, src.mtime_ms);
    if let Err(e) = st
        .store
        .enqueue_job(HLS, id, &input, PRIORITY_WAITING, false)
        .await
    {
        return ApiError::from(e).into_response();
    }
    st.pipeline.wake();
    let job = st
        .store
        .jobs(&JobFilter {
            kind: Some(HLS.into()),
            track_id: Some(id.into()),
            limit: 1,
            ..Default::default()
        })
        .await
        .ok()
        .and_then(|mut j| j.pop());
    if let Some(j) = job
        .as_ref()
        .filter(|j| j.state == tonearm_store::jobs::FAILED)
    {
        // Retrying will not help until the file changes or an admin re-runs the job.
        let reason = j.error.clone().unwrap_or_default();
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({
                "error": {
                    "code": "packaging_failed",
                    "message": format!("this track could not be prepared for HLS: {reason}"),
                },
                "job": job,
            })),
        )
            .into_response();
    }
    let mut r = (
        StatusCode::CONFLICT,
        Json(json!({
            "error": {"code": "not_ready", "message": "this track is being prepared for HLS"},
            "job": job,
        })),
    )
        .into_response();
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
    r
}

/// A short name for a package, carried in segment and key URLs so a player still holding a
/// replaced package's playlist is told so (410) instead of fetching the new package's bytes.
fn package_tag(p: &HlsPackage) -> String {
    blake3::hash(p.prefix.as_bytes()).to_hex()[..12].to_string()
}

/// 410 when `asked` names a package other than the published one.
fn replaced(asked: Option<&str>, pkg: &HlsPackage) -> Option<Response> {
    let asked = asked?;
    (asked != package_tag(pkg)).then(|| {
        ApiError::new(
            StatusCode::GONE,
            "package_replaced",
            "this track was prepared again; reload its playlist",
        )
        .into_response()
    })
}

#[derive(Deserialize)]
pub struct PackageQuery {
    p: Option<String>,
}

fn playlist_response(body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, PLAYLIST),
            (header::CACHE_CONTROL, "private, no-cache"),
        ],
        body,
    )
        .into_response()
}

/// The `access_token` a playlist was fetched with, if any.
#[derive(Deserialize)]
pub struct PlaylistQuery {
    access_token: Option<String>,
}

impl PlaylistQuery {
    /// The query to append to every URI in the playlist (`&access_token=…`, or nothing):
    /// a player that cannot send headers (Safari's native HLS) signed in with the query
    /// token, and must present it again for the variants, init and segments.
    fn carried(&self) -> String {
        match &self.access_token {
            Some(t) if !t.is_empty() => format!("&access_token={}", url_escape(t)),
            _ => String::new(),
        }
    }
}

/// `GET /api/tracks/{id}/hls/master.m3u8`
pub async fn master(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<PlaylistQuery>,
) -> Response {
    let carried = q.carried();
    let query = carried.strip_prefix('&').map(|c| format!("?{c}"));
    match published(&st, &id).await {
        Ok((_, m)) => playlist_response(playlist::master(&m, |v| {
            format!("{}/index.m3u8{}", v.dir(), query.as_deref().unwrap_or(""))
        })),
        Err(r) => r,
    }
}

fn variant<'m>(m: &'m Manifest, name: &str) -> Option<&'m Variant> {
    m.variants.iter().find(|v| v.dir() == name)
}

fn key_message(track: &str, user: &str, exp: u64, package: &str) -> String {
    format!("hls-key:{track}:{user}:{exp}:{package}")
}

/// `GET /api/tracks/{id}/hls/{variant}/index.m3u8`. The key URI in it is signed for the
/// caller and expires (players that cannot send headers can still fetch it; nobody else can).
pub async fn media(
    State(st): State<AppState>,
    Path((id, name)): Path<(String, String)>,
    Query(q): Query<PlaylistQuery>,
    who: Option<Extension<Principal>>,
) -> Response {
    let (pkg, m) = match published(&st, &id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(v) = variant(&m, &name) else {
        return ApiError::not_found("variant").into_response();
    };
    let tag = package_tag(&pkg);
    let carried = q.carried();
    let user = who
        .map(|Extension(p)| p.user_id)
        .unwrap_or_else(|| "-".into());
    let exp = now_secs() + st.config.hls.key_url_ttl_secs;
    let sig = st.jwt.sign_url(&key_message(&id, &user, exp, &tag));
    let key_uri = format!("../key?u={}&exp={exp}&p={tag}&sig={sig}", url_escape(&user));
    playlist_response(playlist::media(
        &m,
        v,
        &key_uri,
        |i| format!("seg{i}.m4s?p={tag}{carried}"),
        &format!("init.mp4?p={tag}{carried}"),
    ))
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// User ids are URL-safe already; anything else is percent-encoded.
fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Deserialize)]
pub struct KeyQuery {
    u: String,
    exp: u64,
    p: String,
    sig: String,
}

/// `GET /api/tracks/{id}/hls/key?u=&exp=&sig=`: the 16-byte AES key, for a valid, unexpired
/// signature only (rate limited per address by the route's class).
pub async fn key(
    State(st): State<AppState>,
    Path(id): Path<String>,
    q: Result<Query<KeyQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Ok(Query(q)) = q else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a signed key URL is required",
        ));
    };
    if q.exp < now_secs()
        || !st
            .jwt
            .verify_url(&key_message(&id, &q.u, q.exp, &q.p), &q.sig)
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this key link is invalid or has expired",
        ));
    }
    let pkg = st
        .store
        .hls_package(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("package"))?;
    if let Some(gone) = replaced(Some(&q.p), &pkg) {
        return Ok(gone);
    }
    let key = decode_hex16(&pkg.key_hex).ok_or_else(|| ApiError::internal("stored key"))?;
    metrics::counter!("tonearm_hls_keys_served_total").increment(1);
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        key.to_vec(),
    )
        .into_response())
}

fn decode_hex16(s: &str) -> Option<[u8; 16]> {
    let mut out = [0u8; 16];
    if s.len() != 32 {
        return None;
    }
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// `GET /api/tracks/{id}/hls/{variant}/{file}`: `init.mp4` or `seg{n}.m4s`, with ranges.
pub async fn file(
    State(st): State<AppState>,
    Path((id, name, file)): Path<(String, String, String)>,
    q: Result<Query<PackageQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let (pkg, m) = match published(&st, &id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let asked = q.ok().and_then(|Query(q)| q.p);
    if let Some(gone) = replaced(asked.as_deref(), &pkg) {
        return gone;
    }
    let Some(v) = variant(&m, &name) else {
        return ApiError::not_found("variant").into_response();
    };
    // Only names the manifest lists: nothing else under the prefix is reachable.
    let known_len = if file == "init.mp4" {
        None
    } else if let Some(n) = file
        .strip_prefix("seg")
        .and_then(|r| r.strip_suffix(".m4s"))
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|n| file == format!("seg{n}.m4s"))
    {
        match v.segments.get(n) {
            Some(s) => Some(s.bytes as u64),
            None => return ApiError::not_found("segment").into_response(),
        }
    } else {
        return ApiError::not_found("file").into_response();
    };
    let key = format!("{}/{}/{file}", pkg.prefix, v.dir());
    let etag = format!("\"{}\"", &blake3::hash(key.as_bytes()).to_hex()[..20]);
    if http_range::if_none_match(&headers, &etag) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    let range = match (
        headers.get(header::RANGE).and_then(|v| v.to_str().ok()),
        known_len,
    ) {
        (Some(r), Some(len)) => match http_range::parse_range(r, len) {
            Ok(r) => r.map(|(a, b)| (a, b, len)),
            Err(_) => {
                return (
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    [(header::CONTENT_RANGE, format!("bytes */{len}"))],
                )
                    .into_response()
            }
        },
        _ => None,
    };
    let body = match fetch(&st, &key, range.map(|(a, b, _)| (a, b))).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/mp4"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if let Some((a, end, len)) = range {
        *r.status_mut() = StatusCode::PARTIAL_CONTENT;
        if let Ok(v) = HeaderValue::from_str(&format!("bytes {a}-{}/{len}", end - 1)) {
            r.headers_mut().insert(header::CONTENT_RANGE, v);
        }
    }
    r
}

/// The object at `key` (or bytes `a..end` of it): from the node's segment cache when there,
/// else from object storage (a whole object is cached for the next player).
async fn fetch(st: &AppState, key: &str, range: Option<(u64, u64)>) -> Result<Bytes, Response> {
    if let Some(whole) = st.hls_cache.get(key) {
        metrics::counter!("tonearm_hls_segment_reads_total", "from" => "cache").increment(1);
        return Ok(match range {
            Some((a, end)) => {
                whole.slice((a as usize).min(whole.len())..(end as usize).min(whole.len()))
            }
            None => whole,
        });
    }
    metrics::counter!("tonearm_hls_segment_reads_total", "from" => "storage").increment(1);
    let got = match range {
        Some((a, end)) => st.pipeline.objects.get_range(key, a..end).await,
        None => st.pipeline.objects.get(key).await,
    };
    match got {
        Ok(b) => {
            if range.is_none() {
                st.hls_cache.insert(key, b.clone());
            }
            Ok(b)
        }
        Err(tonearm_store::ObjectsError::NotFound) => {
            // Re-packaged between the row read and this read: the player re-fetches the
            // playlist and gets the new package.
            Err(ApiError::not_found("segment").into_response())
        }
        Err(e) => {
            tracing::error!(key, error = %e, "object storage read failed");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_unavailable",
                "object storage did not answer; try again",
            )
            .into_response())
        }
    }
}
