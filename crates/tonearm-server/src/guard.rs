//! The guards every request passes: who is asking ([`authenticate`], [`require`] at a
//! [`Level`]) and how often ([`limit`] per client address and route class). They are the
//! code that reads `AppState`; the parts they use (`auth`, `limits`) do not know it.

use crate::auth::{presented, presented_in_query, tokens, unauthorized, Principal};
use crate::error::ApiError;
use crate::limits::{peer, too_many, Class};
use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;

/// Authenticates a request, or says why not (always 401, never which part failed).
pub async fn authenticate(st: &AppState, headers: &HeaderMap) -> Result<Principal, ApiError> {
    authenticate_secret(st, presented(headers)).await
}

async fn authenticate_secret(st: &AppState, secret: Option<&str>) -> Result<Principal, ApiError> {
    let p = identify(st, secret).await?;
    // The per-user limit follows the account across addresses and keys.
    st.limits
        .per_user
        .check(&p.user_id)
        .await
        .map_err(ApiError::rate_limited)?;
    Ok(p)
}

async fn identify(st: &AppState, secret: Option<&str>) -> Result<Principal, ApiError> {
    let Some(secret) = secret.filter(|s| !s.is_empty() && s.len() < 4096) else {
        return Err(unauthorized("sign in required"));
    };
    if secret.starts_with(tokens::API_KEY_PREFIX) {
        let user = st
            .store
            .user_by_api_key(&tokens::secret_hash(secret))
            .await?;
        let user = user.ok_or_else(|| unauthorized("invalid credentials"))?;
        return Ok(Principal {
            user_id: user.id,
            name: user.name,
            role: user.role,
            family: None,
        });
    }
    let claims = st
        .jwt
        .verify(secret)
        .ok_or_else(|| unauthorized("invalid or expired token"))?;
    // Revocation (logout, theft detection, password change, deleted user) takes effect at once.
    if !session_is_live(st, &claims).await? {
        return Err(unauthorized("session ended"));
    }
    Ok(Principal {
        user_id: claims.sub,
        name: claims.name,
        role: claims.role,
        family: Some(claims.fam),
    })
}

/// With Redis: the shared revocation list (every node sees a logout at once). Without, or if
/// Redis fails: the database.
async fn session_is_live(st: &AppState, claims: &tokens::Claims) -> Result<bool, ApiError> {
    if let Some(shared) = &st.shared {
        match shared.is_revoked(&claims.fam, &claims.sub).await {
            Ok(revoked) => return Ok(!revoked),
            Err(e) => tracing::warn!("shared revocations unavailable, asking the database: {e}"),
        }
    }
    Ok(st.store.family_is_live(&claims.fam, &claims.sub).await?)
}

fn with_challenge(e: ApiError) -> Response {
    let mut r = e.into_response();
    if r.status() == StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
    }
    r
}

/// Who a class of routes admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Catalog and streaming: a signed-in user, unless `auth.public_library` opens them to all.
    Viewer,
    /// Any signed-in user.
    User,
    /// Admins only: 401 without credentials, 403 for a signed-in non-admin.
    Admin,
}

/// The guard of a route class (`from_fn_with_state((state, level), guard::require)`): puts
/// the caller's [`Principal`] in the request extensions, or answers 401/403.
pub async fn require(
    State((st, level)): State<(AppState, Level)>,
    mut req: Request,
    next: Next,
) -> Response {
    let in_query = match level {
        Level::Viewer if presented(req.headers()).is_none() => presented_in_query(&req),
        _ => None,
    };
    let secret = in_query
        .as_deref()
        .or_else(|| presented(req.headers()))
        .map(str::to_owned);
    if level == Level::Viewer && st.config.auth.public_library && secret.is_none() {
        return next.run(req).await;
    }
    match authenticate_secret(&st, secret.as_deref()).await {
        Ok(p) if level == Level::Admin && !p.is_admin() => {
            ApiError::new(StatusCode::FORBIDDEN, "forbidden", "admin only").into_response()
        }
        Ok(p) => {
            req.extensions_mut().insert(p);
            next.run(req).await
        }
        Err(e) => with_challenge(e),
    }
}

/// Rate limit per client address for a route class
/// (`from_fn_with_state((state, class), guard::limit)`).
pub async fn limit(
    State((st, class)): State<(AppState, Class)>,
    req: Request,
    next: Next,
) -> Response {
    let ip = peer(req.extensions().get::<ConnectInfo<SocketAddr>>());
    let limiter = match class {
        Class::Api => &st.limits.api,
        Class::Token => &st.limits.token,
        Class::HlsKey => &st.limits.hls_key,
    };
    match limiter.check(&ip).await {
        Ok(()) => next.run(req).await,
        Err(wait) => too_many(wait),
    }
}
