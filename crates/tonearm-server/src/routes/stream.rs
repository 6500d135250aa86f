//! `GET|HEAD /api/tracks/{id}/stream` (also `/cdn/stream/{id}`): the original file, or a
//! transcode that has an exact length and honours byte ranges from its very first play.

use crate::error::{ApiError, ApiResult};
use crate::http_range::{decide, status_of, Decision, Validators};
use crate::state::AppState;
use crate::stream_cache::{ChunkCache, ChunkKey, ChunkReader, StreamKey};
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tonearm_media::encode::opus_lookahead;
use tonearm_media::{Format, Quality, StreamPlan, TranscodeSpec};
use tonearm_store::TrackSource;

/// Largest piece of body sent at once.
const PIECE: usize = 64 * 1024;

#[derive(Debug, Clone, Deserialize)]
pub struct StreamQuery {
    quality: Option<String>,
    format: Option<String>,
    normalize: Option<String>,
    prefetch: Option<String>,
}

/// What the client asked for, validated.
#[derive(Debug, Clone, Copy)]
struct Wanted {
    /// `None` = the original file.
    transcode: Option<(Format, Quality)>,
    normalize: bool,
}

/// Codecs every mainstream browser plays as they are; others default to a transcode.
fn browser_playable(codec: &str) -> bool {
    matches!(codec, "mp3" | "flac" | "vorbis" | "opus" | "aac")
        || codec.starts_with("pcm_s16")
        || codec.starts_with("pcm_s24")
}

fn parse_wanted(q: &StreamQuery, codec: &str) -> ApiResult<Wanted> {
    let bad = |e: tonearm_media::quality::ParseError| ApiError::bad_request(e.to_string());
    let normalize = match q.normalize.as_deref() {
        None | Some("0") | Some("false") => false,
        Some("1") | Some("true") => true,
        Some(_) => return Err(ApiError::bad_request("normalize must be 0 or 1")),
    };
    let format = q
        .format
        .as_deref()
        .map(str::parse::<Format>)
        .transpose()
        .map_err(bad)?;
    let quality = match q.quality.as_deref() {
        Some("original") => None,
        Some(s) => Some(s.parse::<Quality>().map_err(bad)?),
        // Original where it plays as-is, unless the client asked for a format or loudness.
        None if browser_playable(codec) && format.is_none() && !normalize => None,
        None => Some(Quality::High),
    };
    if quality.is_none() && normalize {
        return Err(ApiError::bad_request(
            "normalize=1 needs a transcode: add quality=low|medium|high",
        ));
    }
    Ok(Wanted {
        transcode: quality.map(|q| (format.unwrap_or(Format::Mp3), q)),
        normalize,
    })
}

fn original_mime(src: &TrackSource) -> &'static str {
    let ext = std::path::Path::new(&src.path)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match src.codec.as_str() {
        "mp3" => "audio/mpeg",
        "flac" => "audio/flac",
        "vorbis" | "opus" => "audio/ogg",
        "aac" | "alac" => "audio/mp4",
        c if c.starts_with("pcm") && (ext == "aif" || ext == "aiff" || ext == "aifc") => {
            "audio/aiff"
        }
        c if c.starts_with("pcm") => "audio/wav",
        _ => "application/octet-stream",
    }
}

/// `GET|HEAD /api/tracks/{id}/stream`
pub async fn stream(
    State(st): State<AppState>,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
    q: Result<Query<StreamQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = q?;
    let src = st
        .store
        .track_source(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("track"))?;
    let wanted = parse_wanted(&q, &src.codec)?;
    if let Some(next) = q
        .prefetch
        .clone()
        .filter(|n| !n.is_empty() && n.len() <= 64)
    {
        let (st2, q2) = (st.clone(), q.clone());
        tokio::spawn(async move {
            if let Err(e) = prefetch(&st2, &next, &q2).await {
                tracing::debug!(track = %next, error = %e.message, "prefetch skipped");
            }
        });
    }
    match wanted.transcode {
        None => serve_original(&st, &src, &method, &headers).await,
        Some((format, quality)) => {
            let t = Transcode::prepare(&st, &src, format, quality, wanted.normalize).await?;
            if method == Method::HEAD {
                // A HEAD is a hint that playback is coming: warm the first chunk.
                drop(t.open_chunk(&st.cache, 0, true));
            }
            Ok(t.respond(&st, &method, &headers))
        }
    }
}

/// Starts the first chunk of `id` (or reads the start of its file) so it plays instantly.
async fn prefetch(st: &AppState, id: &str, q: &StreamQuery) -> ApiResult<()> {
    let src = st
        .store
        .track_source(id)
        .await?
        .ok_or_else(|| ApiError::not_found("track"))?;
    // The next track gets what it would get if requested with the same query.
    let wanted = parse_wanted(q, &src.codec)?;
    match wanted.transcode {
        Some((format, quality)) => {
            let t = Transcode::prepare(st, &src, format, quality, wanted.normalize).await?;
            drop(t.open_chunk(&st.cache, 0, true));
        }
        None => {
            // Pull the file's first 256 KiB into the OS page cache.
            let mut f = tokio::fs::File::open(&src.path)
                .await
                .map_err(|_| ApiError::not_found("file"))?;
            let mut buf = vec![0u8; 256 * 1024];
            let _ = f.read(&mut buf).await;
        }
    }
    Ok(())
}

fn base_headers(h: &mut HeaderMap, mime: &str, v: &Validators) {
    let mut set = |k: header::HeaderName, val: String| {
        if let Ok(v) = HeaderValue::from_str(&val) {
            h.insert(k, v);
        }
    };
    set(header::CONTENT_TYPE, mime.to_string());
    set(header::ACCEPT_RANGES, "bytes".into());
    set(header::ETAG, v.etag.clone());
    set(header::CACHE_CONTROL, "private, max-age=3600".into());
    if let Some(lm) = v.last_modified {
        set(header::LAST_MODIFIED, httpdate::fmt_http_date(lm));
    }
}

/// Builds the status line and headers for `decision`; returns the byte span to send, if any.
fn head_for(
    decision: &Decision,
    len: u64,
    mime: &str,
    v: &Validators,
) -> (StatusCode, HeaderMap, Option<(u64, u64)>) {
    let mut h = HeaderMap::new();
    base_headers(&mut h, mime, v);
    let span = match *decision {
        Decision::NotModified => {
            h.remove(header::CONTENT_TYPE);
            None
        }
        Decision::Unsatisfiable => {
            h.insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{len}"))
                    .unwrap_or(HeaderValue::from_static("bytes */0")),
            );
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(0));
            None
        }
        Decision::Full => Some((0, len)),
        Decision::Partial { start, end } => {
            if let Ok(v) = HeaderValue::from_str(&format!("bytes {}-{}/{}", start, end - 1, len)) {
                h.insert(header::CONTENT_RANGE, v);
            }
            Some((start, end))
        }
    };
    if let Some((s, e)) = span {
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(e - s));
    }
    (status_of(decision), h, span)
}

/// The track's file metadata, or the error a vanished file gets.
async fn file_meta(src: &TrackSource) -> ApiResult<std::fs::Metadata> {
    tokio::fs::metadata(&src.path).await.map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "file_missing",
            "the track's file is gone; rescan the library",
        )
    })
}

async fn serve_original(
    st: &AppState,
    src: &TrackSource,
    method: &Method,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let meta = file_meta(src).await?;
    let len = meta.len();
    let mtime = meta.modified().unwrap_or(UNIX_EPOCH);
    let mtime_ms = mtime
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let v = Validators {
        etag: format!("\"{len:x}-{mtime_ms:x}\""),
        last_modified: Some(mtime),
    };
    let decision = decide(headers, &v, len);
    let (status, h, span) = head_for(&decision, len, original_mime(src), &v);
    let body = match span {
        Some((start, end)) if *method != Method::HEAD && end > start => {
            let mut file = tokio::fs::File::open(&src.path)
                .await
                .map_err(ApiError::internal)?;
            file.seek(std::io::SeekFrom::Start(start))
                .await
                .map_err(ApiError::internal)?;
            let guard = ActiveStream::new(&st.active_streams);
            let stream = tokio_util::io::ReaderStream::with_capacity(file.take(end - start), PIECE);
            let counted = futures_util::StreamExt::map(stream, move |r| {
                let _ = &guard;
                r
            });
            Body::from_stream(counted)
        }
        _ => Body::empty(),
    };
    Ok((status, h, body).into_response())
}

/// Counts a stream as active while its body is alive.
struct ActiveStream(Arc<AtomicI64>);

impl ActiveStream {
    fn new(counter: &Arc<AtomicI64>) -> ActiveStream {
        counter.fetch_add(1, Ordering::Relaxed);
        ActiveStream(counter.clone())
    }
}

impl Drop for ActiveStream {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Refuses to transcode a file that changed since it was scanned: its planned length, channels
/// and cache key come from the scan, so they would no longer describe the bytes. A rescan is
/// started so the next request succeeds.
async fn check_unchanged(st: &AppState, src: &TrackSource) -> ApiResult<()> {
    let meta = file_meta(src).await?;
    let stamp = tonearm_library::scan::file_stamp(&meta);
    if stamp.size_bytes != src.size_bytes || stamp.mtime_ms != src.mtime_ms {
        crate::routes::library::start_scan(st);
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "file_changed",
            "the track's file changed since it was scanned; a rescan has started, retry shortly",
        ));
    }
    Ok(())
}

/// A transcode about to be served.
struct Transcode {
    key: StreamKey,
    plan: Arc<StreamPlan>,
    path: std::path::PathBuf,
    spec: TranscodeSpec,
    mtime: SystemTime,
}

impl Transcode {
    async fn prepare(
        st: &AppState,
        src: &TrackSource,
        format: Format,
        quality: Quality,
        normalize: bool,
    ) -> ApiResult<Transcode> {
        check_unchanged(st, src).await?;
        let gain = if normalize {
            st.pipeline.track_gain(src).await?
        } else {
            1.0
        };
        let plan = StreamPlan::new(
            format,
            quality,
            src.sample_rate as u32,
            src.channels as u16,
            src.frames as u64,
            opus_lookahead(),
        );
        let key = StreamKey {
            track_id: src.id.clone(),
            format,
            quality,
            gain_milli: (gain * 1000.0).round() as u32,
            stamp: src.mtime_ms ^ (src.size_bytes << 20),
        };
        Ok(Transcode {
            key,
            plan: Arc::new(plan),
            path: std::path::PathBuf::from(&src.path),
            spec: TranscodeSpec { gain },
            mtime: UNIX_EPOCH + Duration::from_millis(src.mtime_ms.max(0) as u64),
        })
    }

    fn open_chunk(&self, cache: &Arc<ChunkCache>, chunk: u64, pin: bool) -> ChunkReader {
        let key = ChunkKey {
            stream: self.key.clone(),
            chunk,
        };
        cache.open(key, &self.plan, &self.path, self.spec, pin)
    }

    fn respond(self, st: &AppState, method: &Method, headers: &HeaderMap) -> Response {
        let len = self.plan.total_len();
        let v = Validators {
            etag: format!("\"{}\"", self.key.tag()),
            last_modified: Some(self.mtime),
        };
        let decision = decide(headers, &v, len);
        let (status, mut h, span) = head_for(&decision, len, self.key.format.mime(), &v);
        let secs = self.plan.frames_48k as f64 / 48_000.0;
        if let Ok(v) = HeaderValue::from_str(&format!("{secs:.3}")) {
            h.insert("x-content-duration", v);
        }
        let body = match span {
            Some((start, end)) if *method != Method::HEAD && end > start => {
                let body = TranscodeBody {
                    cache: st.cache.clone(),
                    t: self,
                    pos: start,
                    end,
                    current: None,
                    ahead: None,
                    _active: ActiveStream::new(&st.active_streams),
                    served: 0,
                };
                Body::from_stream(futures_util::stream::unfold(body, |mut b| async move {
                    let item = b.next_piece().await?;
                    Some((item, b))
                }))
            }
            _ => Body::empty(),
        };
        (status, h, body).into_response()
    }
}

/// The state of a transcoded response body: where it is and the chunks it holds open.
struct TranscodeBody {
    cache: Arc<ChunkCache>,
    t: Transcode,
    pos: u64,
    end: u64,
    current: Option<(u64, ChunkReader)>,
    /// The next chunk, opened early so it encodes while this one is sent.
    ahead: Option<(u64, ChunkReader)>,
    _active: ActiveStream,
    served: u64,
}

impl Drop for TranscodeBody {
    fn drop(&mut self) {
        self.cache
            .stats
            .bytes_served
            .fetch_add(self.served, Ordering::Relaxed);
    }
}

impl TranscodeBody {
    async fn next_piece(&mut self) -> Option<Result<Bytes, std::io::Error>> {
        if self.pos >= self.end {
            return None;
        }
        let plan = self.t.plan.clone();
        let header = plan.header();
        if self.pos < header.len() as u64 {
            let stop = (header.len() as u64).min(self.end);
            let piece = Bytes::copy_from_slice(&header[self.pos as usize..stop as usize]);
            self.pos = stop;
            self.served += piece.len() as u64;
            return Some(Ok(piece));
        }
        let chunk = plan.chunk_at(self.pos)?;
        if self.current.as_ref().map(|(c, _)| *c) != Some(chunk) {
            let reader = match self.ahead.take() {
                Some((c, r)) if c == chunk => r,
                _ => self.t.open_chunk(&self.cache, chunk, false),
            };
            self.current = Some((chunk, reader));
            let (_, chunk_end) = plan.chunk_range(chunk);
            if chunk + 1 < plan.chunk_count() && chunk_end < self.end {
                self.ahead = Some((chunk + 1, self.t.open_chunk(&self.cache, chunk + 1, false)));
            }
        }
        let (start, chunk_end) = plan.chunk_range(chunk);
        let off = (self.pos - start) as usize;
        let max = ((chunk_end.min(self.end) - self.pos) as usize).min(PIECE);
        let (_, reader) = self.current.as_mut()?;
        match reader.read_at(off, max).await {
            Ok(Some(piece)) => {
                self.pos += piece.len() as u64;
                self.served += piece.len() as u64;
                Some(Ok(piece))
            }
            Ok(None) => Some(Err(std::io::Error::other("transcode ended early"))),
            Err(e) => Some(Err(std::io::Error::other(e))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(quality: Option<&str>, format: Option<&str>, normalize: Option<&str>) -> StreamQuery {
        StreamQuery {
            quality: quality.map(String::from),
            format: format.map(String::from),
            normalize: normalize.map(String::from),
            prefetch: None,
        }
    }

    #[test]
    fn defaults_to_original_for_playable_codecs() {
        assert!(parse_wanted(&q(None, None, None), "flac")
            .unwrap()
            .transcode
            .is_none());
        assert_eq!(
            parse_wanted(&q(None, None, None), "alac")
                .unwrap()
                .transcode,
            Some((Format::Mp3, Quality::High))
        );
        assert_eq!(
            parse_wanted(&q(Some("low"), Some("opus"), None), "mp3")
                .unwrap()
                .transcode,
            Some((Format::Opus, Quality::Low))
        );
        assert!(parse_wanted(&q(Some("ultra"), None, None), "mp3").is_err());
        assert!(parse_wanted(&q(Some("original"), None, Some("1")), "mp3").is_err());
        assert!(parse_wanted(&q(None, None, Some("maybe")), "mp3").is_err());
    }
}
