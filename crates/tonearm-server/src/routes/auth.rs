//! Sign-in, token refresh and logout, first-admin setup, the caller's profile and API keys.

use crate::auth::tokens::{random_token, secret_hash, API_KEY_PREFIX};
use crate::auth::{password, sessions, Principal};
use crate::error::{ApiError, ApiResult};
use crate::limits::{too_many, ClientIp};
use crate::state::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;
use tonearm_store::{now_ms, RefreshOutcome};

/// Longest user name accepted.
pub const MAX_NAME_LEN: usize = 64;

fn invalid_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "wrong username or password",
    )
}

/// A user name: 1–64 printable characters, no surrounding spaces.
pub fn check_name(name: &str) -> ApiResult<()> {
    let ok = !name.is_empty()
        && name.chars().count() <= MAX_NAME_LEN
        && name.trim() == name
        && !name.chars().any(|c| c.is_control());
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "user names have 1 to {MAX_NAME_LEN} printable characters"
        )))
    }
}

/// Issues an access token and the response body shared by login and refresh.
fn token_response(
    st: &AppState,
    user_id: &str,
    name: &str,
    role: &str,
    family: &str,
    refresh: &str,
) -> ApiResult<Response> {
    let ttl = st.config.auth.access_ttl_secs;
    let access = st
        .jwt
        .issue(user_id, name, role, family, ttl)
        .map_err(ApiError::internal)?;
    Ok(Json(json!({
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "Bearer",
        "expires_in": ttl,
        "user": { "id": user_id, "name": name, "role": role },
    }))
    .into_response())
}

#[derive(Deserialize)]
pub struct Login {
    username: String,
    password: String,
}

/// `POST /api/auth/login {username, password}`
pub async fn login(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    body: Result<Json<Login>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(req) = body?;
    // Limits are per client and name: guessing one account, or many from one place, is slowed.
    let key = format!(
        "{ip}|{}",
        req.username
            .to_lowercase()
            .chars()
            .take(MAX_NAME_LEN)
            .collect::<String>()
    );
    if let Some(wait) = st.limits.lockouts.locked(&key).await {
        return Ok(too_many(wait));
    }
    if let Err(wait) = st.limits.login.check(&key).await {
        return Ok(too_many(wait));
    }
    if req.username.len() > 4 * MAX_NAME_LEN || req.password.len() > password::MAX_PASSWORD_LEN {
        return Err(invalid_credentials());
    }
    let creds = st.store.credentials(&req.username).await?;
    let pw = req.password.clone();
    let user = tokio::task::spawn_blocking(move || match creds {
        Some(c) if password::verify(&pw, &c.password_hash) => Some(c),
        Some(_) => None,
        None => {
            password::verify_dummy(&pw);
            None
        }
    })
    .await
    .map_err(ApiError::internal)?;
    let Some(user) = user else {
        tracing::info!(username = %req.username.chars().take(64).collect::<String>(), %ip, "login failed");
        st.limits.lockouts.failed(&key).await;
        return Err(invalid_credentials());
    };
    st.limits.lockouts.succeeded(&key).await;
    let family = random_token(16);
    let refresh = random_token(32);
    let expires = now_ms() + st.config.auth.refresh_ttl_secs as i64 * 1000;
    st.store
        .start_family(&family, &user.id, &secret_hash(&refresh), expires)
        .await?;
    token_response(&st, &user.id, &user.name, &user.role, &family, &refresh)
}

fn invalid_refresh() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "invalid refresh token",
    )
}

#[derive(Deserialize)]
pub struct Refresh {
    refresh_token: String,
}

/// `POST /api/auth/refresh {refresh_token}`: rotates. Presenting an already rotated token
/// revokes the whole session (someone else has a copy).
pub async fn refresh(
    State(st): State<AppState>,
    body: Result<Json<Refresh>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(req) = body?;
    if req.refresh_token.len() > 256 {
        return Err(invalid_refresh());
    }
    let next = random_token(32);
    let expires = now_ms() + st.config.auth.refresh_ttl_secs as i64 * 1000;
    match st
        .store
        .rotate_refresh(
            &secret_hash(&req.refresh_token),
            &secret_hash(&next),
            expires,
        )
        .await?
    {
        RefreshOutcome::Rotated { user_id, family_id } => {
            let user = st
                .store
                .user(&user_id)
                .await?
                .ok_or_else(invalid_credentials)?;
            token_response(&st, &user.id, &user.name, &user.role, &family_id, &next)
        }
        RefreshOutcome::Reused { user_id, family_id } => {
            tracing::warn!(user = %user_id, family = %family_id, "refresh token reused: session revoked (possible theft)");
            sessions::announce(st.shared.as_ref(), &st.config.auth, &[family_id], &[]).await;
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "token_reused",
                "refresh token already used; signed out everywhere it was shared",
            ))
        }
        RefreshOutcome::Invalid => Err(invalid_refresh()),
    }
}

/// `POST /api/auth/logout`: ends the caller's session (its refresh and access tokens).
pub async fn logout(
    State(st): State<AppState>,
    Extension(p): Extension<Principal>,
) -> ApiResult<Response> {
    let family = p
        .family
        .ok_or_else(|| ApiError::bad_request("API keys have no session; revoke the key instead"))?;
    st.store.revoke_family(&family, "logout").await?;
    sessions::announce(st.shared.as_ref(), &st.config.auth, &[family], &[]).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /api/me`
pub async fn me(Extension(p): Extension<Principal>) -> Json<Principal> {
    Json(p)
}

#[derive(Deserialize)]
pub struct Setup {
    token: String,
    username: String,
    password: String,
}

/// `GET /api/setup`: whether the server still needs its first admin.
pub async fn setup_status(State(st): State<AppState>) -> ApiResult<Response> {
    Ok(Json(json!({ "needed": st.store.user_count().await? == 0 })).into_response())
}

/// `POST /api/setup {token, username, password}`: creates the first admin with the one-time
/// token printed at start-up.
pub async fn setup(
    State(st): State<AppState>,
    body: Result<Json<Setup>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(req) = body?;
    let expected = st.setup_token.lock().map(|t| t.clone()).unwrap_or(None);
    // Compared as BLAKE3 hashes: equality of `blake3::Hash` is constant-time.
    let matches =
        expected.is_some_and(|t| blake3::hash(t.as_bytes()) == blake3::hash(req.token.as_bytes()));
    if !matches {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "bad_setup_token",
            "setup token is wrong or already used",
        ));
    }
    check_name(&req.username)?;
    password::check_policy(&req.password).map_err(ApiError::bad_request)?;
    let hash = password::hash_off_thread(req.password.clone()).await?;
    if !st
        .store
        .create_first_admin(&random_token(12), &req.username, &hash)
        .await?
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_set_up",
            "the server already has users",
        ));
    }
    if let Ok(mut t) = st.setup_token.lock() {
        *t = None;
    }
    tracing::info!(admin = %req.username, "first admin created");
    Ok(StatusCode::CREATED.into_response())
}

#[derive(Deserialize)]
pub struct NewKey {
    name: String,
}

/// `POST /api/keys {name}`: the key is in this response only.
pub async fn create_key(
    State(st): State<AppState>,
    Extension(p): Extension<Principal>,
    body: Result<Json<NewKey>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(req) = body?;
    check_name(&req.name)?;
    let id = random_token(9);
    let key = format!("{API_KEY_PREFIX}{}", random_token(32));
    st.store
        .create_api_key(&id, &p.user_id, &req.name, &secret_hash(&key))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "name": req.name, "key": key })),
    )
        .into_response())
}

/// `GET /api/keys`: the caller's keys (never the secrets).
pub async fn list_keys(
    State(st): State<AppState>,
    Extension(p): Extension<Principal>,
) -> ApiResult<Response> {
    let items = st.store.api_keys(&p.user_id).await?;
    Ok(Json(json!({ "items": items })).into_response())
}

/// `DELETE /api/keys/{id}`
pub async fn revoke_key(
    State(st): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    if st.store.revoke_api_key(&p.user_id, &id).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found("key"))
    }
}
