//! The browser app: the built files of `web/` served at `/`. Paths that are not files
//! (`/room/{id}`, `/albums/{id}`, …) are the app's own routes and get `index.html`; unknown
//! `/api/…` paths keep their JSON 404.

use crate::error::ApiError;
use crate::route_table::OwnPaths;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

/// Finds the built app: the configured folder (if it holds a build), else `web/dist` under the working directory,
/// else beside the executable (`<exe dir>/web` for an install, `web/dist` of the source tree
/// for `target/{debug,release}/tonearm`). `None` when there is no build anywhere.
pub fn locate(configured: Option<&Path>) -> Option<PathBuf> {
    let built = |d: &Path| d.join("index.html").is_file();
    let mut candidates = match configured {
        // A configured folder is the only candidate: never serve some other build instead.
        Some(d) => return built(d).then(|| d.canonicalize().unwrap_or(d.to_path_buf())),
        None => vec![PathBuf::from("web/dist")],
    };
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe.parent() {
            candidates.push(dir.join("web"));
            candidates.extend(dir.ancestors().skip(1).take(3).map(|a| a.join("web/dist")));
        }
    }
    candidates
        .into_iter()
        .find(|d| built(d))
        .map(|d| d.canonicalize().unwrap_or(d))
}

/// The router's fallback: the app's files, `index.html` for its routes, JSON errors for the
/// server's own paths.
pub async fn serve(dir: Option<PathBuf>, own: Arc<OwnPaths>, req: Request) -> Response {
    let path = req.uri().path();
    if own.contains(path) {
        return ApiError::not_found("route").into_response();
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this route does not take that method",
        )
        .into_response();
    }
    let Some(dir) = dir else {
        return (
            StatusCode::NOT_FOUND,
            Html(
                "<!doctype html><title>Tonearm</title><p>The web app is not built. \
                 Run <code>make run</code> (or <code>cd web &amp;&amp; npm ci &amp;&amp; npm run \
                 build</code>) and reload. The API is at <code>/api</code>.</p>",
            ),
        )
            .into_response();
    };
    // Hashed build assets never change under their name; a missing one is a plain 404 (an
    // old tab asking for a replaced chunk must not get index.html as JavaScript).
    let immutable = path.starts_with("/assets/");
    let served = if immutable {
        ServeDir::new(&dir).oneshot(req).await
    } else {
        ServeDir::new(&dir)
            .fallback(ServeFile::new(dir.join("index.html")))
            .oneshot(req)
            .await
    };
    let Ok(res) = served;
    let mut res = res.into_response();
    let cache = if immutable && res.status().is_success() {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    res
}
