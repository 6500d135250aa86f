//! The API's error shape: a status and `{"error": {"code", "message"}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// An error answered to a client.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds for `Retry-After` (429 answers).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
    /// Over a rate limit; `retry_after` ends up in the `Retry-After` header.
    pub fn rate_limited(retry_after: std::time::Duration) -> Self {
        let secs = (retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0)).max(1);
        ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "rate_limited",
            message: format!("too many requests; retry in {secs} s"),
            retry_after: Some(secs),
        }
    }

    /// A server-side failure: logged in full, answered without internals.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal server error",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": { "code": self.code, "message": self.message } });
        let mut r = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            r.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(secs),
            );
        }
        r
    }
}

impl From<tonearm_store::StoreError> for ApiError {
    fn from(e: tonearm_store::StoreError) -> Self {
        ApiError::internal(e)
    }
}

impl From<tonearm_pipeline::LoudnessError> for ApiError {
    fn from(e: tonearm_pipeline::LoudnessError) -> Self {
        use tonearm_pipeline::LoudnessError as L;
        match e {
            L::Unreadable(why) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unreadable", why)
            }
            L::Changed => ApiError::new(StatusCode::CONFLICT, "changed", e.to_string()),
            L::Gone => ApiError::not_found("track"),
            L::Store(e) => e.into(),
            L::Task(_) => ApiError::internal(e),
        }
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(e: axum::extract::rejection::QueryRejection) -> Self {
        ApiError::bad_request(e.body_text())
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(e: axum::extract::rejection::JsonRejection) -> Self {
        // Keep the rejection's status: 413 for an oversized body, 415 for a wrong content type.
        let status = e.status();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "too_large"
        } else {
            "bad_request"
        };
        ApiError::new(status, code, e.body_text())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
