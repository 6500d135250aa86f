//! REST for listening rooms (no account needed; see `docs/rooms.md`).

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, State};
use axum::extract::{Query, Request};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use tonearm_rooms::engine::{CreateRequest, RoomError};
use tonearm_rooms::Quality;

/// `POST /api/rooms {roomName, password?, delayMs?}`: the answer's `hostToken` is shown once.
pub async fn create(
    State(st): State<AppState>,
    body: Result<Json<CreateRequest>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(req) = body?;
    let host_id = crate::auth::tokens::random_token(9);
    let (room, created) = st.rooms.create(&req, host_id).map_err(|e| match e {
        RoomError::TooMany => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too_many_rooms",
            e.to_string(),
        ),
        other => ApiError::bad_request(other.to_string()),
    })?;
    st.rooms.register(&room).await;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// `GET /api/rooms`: open rooms, newest first.
pub async fn list(State(st): State<AppState>) -> Json<Vec<Value>> {
    Json(st.rooms.list().iter().map(|r| r.summary()).collect())
}

/// The room here, or (across nodes) a replica of one open on another node.
async fn room(
    st: &AppState,
    id: &str,
) -> ApiResult<std::sync::Arc<tonearm_rooms::engine::room::Room>> {
    st.rooms
        .find(id)
        .await
        .ok_or_else(|| ApiError::not_found("room"))
}

/// `GET /api/rooms/{id}`
pub async fn get(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(room(&st, &id).await?.details()))
}

/// `GET /api/rooms/{id}/stats`
pub async fn stats(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let r = room(&st, &id).await?;
    let state = r.state();
    let s = state.stats;
    Ok(Json(json!({
        "bitrate": s.bitrate,
        "latency": s.latency,
        "guestCount": state.guest_count(),
        "duration": s.duration,
        "bufferLevel": s.buffer_level,
    })))
}

/// `DELETE /api/rooms/{id}` with `X-Host-Token`: only the host closes a room.
pub async fn delete(
    State(st): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let r = room(&st, &id).await?;
    let token = headers.get("x-host-token").and_then(|v| v.to_str().ok());
    if !token.is_some_and(|t| r.host_token_ok(t)) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not_host",
            "only the room's host token can close it",
        ));
    }
    st.rooms.close(&id, "closed by host").await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(serde::Deserialize)]
pub struct MediaQuery {
    token: String,
    quality: Option<String>,
}

/// `GET /api/rooms/{id}/media?token=…&quality=high|low` (a WebSocket): the room's audio as
/// binary frames, for a guest that joined over Socket.IO (`token` is its session token; join
/// with `audio: "media"` so frames do not also come as events).
pub async fn media(
    State(st): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<MediaQuery>, QueryRejection>,
    mut req: Request,
) -> ApiResult<Response> {
    let Query(q) = query?;
    let quality = match q.quality.as_deref() {
        None => Quality::High,
        Some(s) => Quality::parse(s)
            .ok_or_else(|| ApiError::bad_request("quality is \"high\" or \"low\""))?,
    };
    let guest = st.jwt.verify_guest(&q.token).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_token",
            "the session token is missing, forged or expired",
        )
    })?;
    let r = room(&st, &id).await?;
    let not_in_room = || {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "not_in_room",
            "join the room (over Socket.IO, on this node) first",
        )
    };
    if !r.state().members.iter().any(|m| m.user_id == guest.sub) {
        return Err(not_in_room());
    }
    let accept = tonearm_rooms::engine::ws::accept_key(&req).map_err(|why| {
        ApiError::new(
            StatusCode::UPGRADE_REQUIRED,
            "websocket_required",
            format!("this is a WebSocket endpoint: {why}"),
        )
    })?;
    let on_upgrade = hyper::upgrade::on(&mut req);
    // One media path per member: a new one ends the previous (a client that reconnects, or
    // one trying to open thousands on one join).
    let left = r
        .state()
        .members
        .iter_mut()
        .find(|m| m.user_id == guest.sub)
        .map(|m| {
            let path = m.left.child_token();
            if let Some(old) = m.media_path.replace(path.clone()) {
                old.cancel();
            }
            path
        })
        .ok_or_else(not_in_room)?;
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(io) => {
                let io = hyper_util::rt::TokioIo::new(io);
                tonearm_rooms::engine::media::serve(r, left, quality, io).await;
            }
            Err(e) => tracing::debug!("media path upgrade failed: {e}"),
        }
    });
    Ok((
        StatusCode::SWITCHING_PROTOCOLS,
        [
            (header::CONNECTION, "upgrade".to_string()),
            (header::UPGRADE, "websocket".to_string()),
            (header::SEC_WEBSOCKET_ACCEPT, accept),
        ],
    )
        .into_response())
}
