//! Who is asking: the [`Principal`], where a request presents its credential, passwords,
//! tokens and sessions. The guards that use them on each request are `crate::guard`.

pub mod password;
pub mod sessions;
pub mod tokens;

use crate::error::ApiError;
use axum::extract::Request;
use axum::http::{header, HeaderMap, StatusCode};
use serde::Serialize;

/// An authenticated caller, placed in request extensions by the guards.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Principal {
    pub user_id: String,
    pub name: String,
    pub role: String,
    /// The session (token family) for token logins; `None` for API keys.
    #[serde(skip)]
    pub family: Option<String>,
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        self.role == "admin"
    }
}

pub(crate) fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
}

/// The credential a request carries: `Authorization: Bearer …` or `X-Api-Key: …`.
pub(crate) fn presented(headers: &HeaderMap) -> Option<&str> {
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let (scheme, rest) = v.trim().split_once(' ')?;
        return scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim());
    }
    headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// The `access_token` query parameter, for catalog reads only: `<audio src>` and `<img src>`
/// cannot send headers. Tokens are short-lived, the access log records paths without their
/// query, and `Referrer-Policy: no-referrer` keeps the URL from leaking to other sites.
pub(crate) fn presented_in_query(req: &Request) -> Option<String> {
    if req.method() != axum::http::Method::GET && req.method() != axum::http::Method::HEAD {
        return None;
    }
    #[derive(serde::Deserialize)]
    struct Q {
        access_token: Option<String>,
    }
    axum::extract::Query::<Q>::try_from_uri(req.uri())
        .ok()?
        .0
        .access_token
}
