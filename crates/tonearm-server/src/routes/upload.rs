//! `POST /api/tracks` (admin): multipart upload of audio files into `<data>/media/uploads`.
//!
//! Each file is streamed to a temporary file (never held in memory), counted against the size
//! limit as it arrives, checked to be audio by its content (not its name), then renamed into
//! place and catalogued. Any failure removes what was written: nothing half-made stays behind.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// A safe file name from a client's: the last path component only, unusual characters replaced,
/// no leading dots, bounded length. The stored extension comes from the detected format.
pub fn safe_stem(client_name: &str) -> String {
    let last = client_name.rsplit(['/', '\\']).next().unwrap_or("");
    let stem = Path::new(last)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("");
    let cleaned: String = stem
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '(' | ')' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    let cleaned = cleaned.trim_start_matches('.').trim().to_string();
    if cleaned.is_empty() {
        "upload".into()
    } else {
        cleaned
    }
}

/// File extension for a probed container/codec.
fn extension_for(codec: &str, container_hint: &str) -> &'static str {
    match codec {
        "mp3" => "mp3",
        "flac" => "flac",
        "vorbis" => "ogg",
        "opus" => "opus",
        "aac" | "alac" => "m4a",
        c if c.starts_with("pcm") && container_hint == "aiff" => "aiff",
        _ => "wav",
    }
}

/// A file removed when dropped, unless kept.
struct TempFile(Option<PathBuf>);

impl TempFile {
    /// Disarms the guard: the file stays.
    fn keep(mut self) {
        self.0 = None;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// `POST /api/tracks` with one or more file parts.
pub async fn upload(
    State(st): State<AppState>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    let mut multipart =
        multipart.map_err(|e| ApiError::new(e.status(), "bad_request", e.body_text()))?;
    let dir = st.config.uploads_dir();
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(ApiError::internal)?;
    let limit = st.config.limits.upload_max_bytes;
    let mut stored = Vec::new();
    // Every file this request wrote, removed on drop unless the upload commits: an error, or
    // the client going away mid-request (the handler future is dropped), leaves nothing behind.
    let mut written: Vec<TempFile> = Vec::new();
    let result: ApiResult<()> = async {
        while let Some(mut field) = multipart
            .next_field()
            .await
            .map_err(|e| ApiError::new(e.status(), "bad_upload", e.body_text()))?
        {
            let Some(name) = field.file_name().map(str::to_string) else {
                continue;
            };
            let token = crate::auth::tokens::random_token(6);
            let tmp = TempFile(Some(dir.join(format!(".{token}.part"))));
            let tmp_path = tmp.0.clone().unwrap_or_default();
            let mut f = tokio::fs::File::create(&tmp_path)
                .await
                .map_err(ApiError::internal)?;
            let mut size = 0usize;
            while let Some(chunk) = field
                .chunk()
                .await
                .map_err(|e| ApiError::new(e.status(), "bad_upload", e.body_text()))?
            {
                size += chunk.len();
                if size > limit {
                    return Err(ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "too_large",
                        format!("{name:?} is larger than the upload limit of {limit} bytes"),
                    ));
                }
                f.write_all(&chunk).await.map_err(ApiError::internal)?;
            }
            f.sync_all().await.map_err(ApiError::internal)?;
            drop(f);
            // Judge the content, not the name: it must decode as audio.
            let probe_path = tmp_path.clone();
            let probed = tokio::task::spawn_blocking(move || {
                let info = tonearm_media::AudioReader::open(&probe_path).map(|r| r.info().clone());
                info.map_err(|e| e.to_string())
            })
            .await
            .map_err(ApiError::internal)?;
            let info = probed.map_err(|reason| {
                ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "not_audio",
                    format!("{name:?} is not playable audio: {reason}"),
                )
            })?;
            let final_path = dir.join(format!(
                "{token}-{}.{}",
                safe_stem(&name),
                extension_for(&info.codec, &info.container)
            ));
            tokio::fs::rename(&tmp_path, &final_path)
                .await
                .map_err(ApiError::internal)?;
            tmp.keep(); // renamed: clean up under the final name instead
            written.push(TempFile(Some(final_path.clone())));
            let meta = tokio::fs::metadata(&final_path)
                .await
                .map_err(ApiError::internal)?;
            let stamp = tonearm_library::scan::file_stamp(&meta);
            let p2 = final_path.clone();
            let track = tokio::task::spawn_blocking(move || {
                tonearm_library::probe_file(&p2, stamp.size_bytes, stamp.mtime_ms)
            })
            .await
            .map_err(ApiError::internal)?
            .map_err(|e| {
                ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "not_audio",
                    format!("{name:?}: {e}"),
                )
            })?;
            stored.push(track);
        }
        if stored.is_empty() {
            return Err(ApiError::bad_request("no file parts in the upload"));
        }
        st.store
            .upsert_tracks(&stored, tonearm_store::now_ms())
            .await?;
        Ok(())
    }
    .await;
    // All or nothing: on error the guards remove every file written.
    result?;
    written.into_iter().for_each(TempFile::keep); // catalogued
    let mut items = Vec::new();
    for t in &stored {
        st.pipeline.enqueue_track(&t.id, false).await?;
        if let Some(track) = st.store.track(&t.id).await? {
            items.push(track);
        }
    }
    Ok((StatusCode::CREATED, Json(json!({ "items": items }))).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_names_cannot_escape_or_hide() {
        assert_eq!(safe_stem("../../etc/passwd.mp3"), "passwd");
        assert_eq!(safe_stem("..\\..\\win.ini"), "win");
        assert_eq!(safe_stem("/abs/path/song.flac"), "song");
        assert_eq!(safe_stem(".hidden.wav"), "hidden");
        assert_eq!(safe_stem("a\u{0}b;rm -rf.mp3"), "a_b_rm -rf");
        assert_eq!(safe_stem(""), "upload");
        assert_eq!(safe_stem(".."), "upload");
        assert!(safe_stem(&"x".repeat(500)).len() <= 100);
    }
}
