//! User management (admin only).

use crate::auth::{password, sessions, tokens::random_token, Principal};
use crate::error::{ApiError, ApiResult};
use crate::routes::auth::check_name;
use crate::state::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;

/// `GET /api/users`
pub async fn list(State(st): State<AppState>) -> ApiResult<Response> {
    Ok(Json(json!({ "items": st.store.users().await? })).into_response())
}

#[derive(Deserialize)]
pub struct NewUser {
    username: String,
    password: String,
    #[serde(default)]
    role: Option<String>,
}

/// `POST /api/users {username, password, role?}`
pub async fn create(
    State(st): State<AppState>,
    body: Result<Json<NewUser>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(req) = body?;
    check_name(&req.username)?;
    password::check_policy(&req.password).map_err(ApiError::bad_request)?;
    let role = req.role.unwrap_or_else(|| "user".into());
    if role != "user" && role != "admin" {
        return Err(ApiError::bad_request("role is user or admin"));
    }
    let hash = password::hash_off_thread(req.password).await?;
    let id = random_token(12);
    if !st
        .store
        .create_user(&id, &req.username, &hash, &role)
        .await?
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "name_taken",
            "a user with that name exists",
        ));
    }
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "name": req.username, "role": role })),
    )
        .into_response())
}

/// `DELETE /api/users/{id}`: also ends their sessions and keys. Admins cannot delete themselves.
pub async fn delete(
    State(st): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    if id == p.user_id {
        return Err(ApiError::bad_request("you cannot delete yourself"));
    }
    if st.store.delete_user(&id).await? {
        sessions::announce(st.shared.as_ref(), &st.config.auth, &[], &[id]).await;
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found("user"))
    }
}

#[derive(Deserialize)]
pub struct NewPassword {
    password: String,
}

/// `PUT /api/users/{id}/password {password}`: also ends every session of that user.
pub async fn set_password(
    State(st): State<AppState>,
    Path(id): Path<String>,
    body: Result<Json<NewPassword>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(req) = body?;
    password::check_policy(&req.password).map_err(ApiError::bad_request)?;
    let hash = password::hash_off_thread(req.password).await?;
    if let Some(ended) = st.store.set_password(&id, &hash).await? {
        sessions::announce(st.shared.as_ref(), &st.config.auth, &ended, &[]).await;
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found("user"))
    }
}
