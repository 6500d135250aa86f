//! The Tonearm HTTP server: routes, shared state and the process lifecycle around them.

pub mod config;
pub mod error;
pub mod http_range;
pub mod loudness;
pub mod observe;
pub mod routes;
pub mod state;
pub mod stream_cache;

pub use config::Config;

use axum::routing::get;
use axum::Router;
use state::{AppState, Inner};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use stream_cache::ChunkCache;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot prepare data directory {0:?}: {1}")]
    DataDir(std::path::PathBuf, std::io::Error),
    #[error(transparent)]
    Store(#[from] tonearm_store::StoreError),
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
    #[error("demo library: {0}")]
    Demo(#[from] tonearm_library::demo::DemoError),
}

/// Builds the router over a state (used by `serve` and by tests that embed the app).
pub fn router(state: AppState) -> Router {
    use routes::{catalog, library, ops, stream};
    let request_id = axum::http::HeaderName::from_static("x-request-id");
    Router::new()
        .route("/health", get(ops::health))
        .route("/metrics", get(ops::metrics))
        .route("/api/tracks", get(catalog::list_tracks))
        .route("/api/tracks/{id}", get(catalog::get_track))
        .route("/api/tracks/{id}/stream", get(stream::stream))
        .route("/cdn/stream/{id}", get(stream::stream))
        .route("/api/tracks/{id}/cover", get(catalog::get_cover))
        .route("/api/albums", get(catalog::list_albums))
        .route("/api/albums/{id}", get(catalog::get_album))
        .route("/api/artists", get(catalog::list_artists))
        .route("/api/artists/{id}", get(catalog::get_artist))
        .route(
            "/api/library/scan",
            get(library::get_scan).post(library::post_scan),
        )
        .route("/api/library/issues", get(library::get_issues))
        .fallback(|| async { error::ApiError::not_found("route") })
        .layer(axum::middleware::from_fn(observe::track_metrics))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", id = %id, method = %req.method(), uri = %req.uri())
            }),
        )
        .layer(SetRequestIdLayer::new(
            request_id,
            observe::RequestIds::default(),
        ))
        .with_state(state)
}

fn has_audio_files(dir: &std::path::Path) -> bool {
    walkdir_has_audio(dir, 0)
}

fn walkdir_has_audio(dir: &std::path::Path, depth: usize) -> bool {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return false;
    };
    rd.flatten().any(|e| {
        let p = e.path();
        if p.is_dir() {
            depth < 8 && walkdir_has_audio(&p, depth + 1)
        } else {
            p.extension().and_then(|x| x.to_str()).is_some_and(|x| {
                tonearm_library::scan::AUDIO_EXTENSIONS
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(x))
            })
        }
    })
}

/// Opens the data dir and database, builds the state (without listening).
pub async fn prepare(config: Config) -> Result<AppState, ServeError> {
    for dir in [config.data.clone(), config.media_dir(), config.cache_dir()] {
        std::fs::create_dir_all(&dir).map_err(|e| ServeError::DataDir(dir.clone(), e))?;
    }
    let store = tonearm_store::Store::open(&config.db_path()).await?;
    if config.demo_on_empty && config.library.is_empty() && !has_audio_files(&config.media_dir()) {
        let dir = config.media_dir().join("demo");
        let written =
            tokio::task::spawn_blocking(move || tonearm_library::demo::write_demo_library(&dir))
                .await
                .map_err(|e| ServeError::Io(std::io::Error::other(e)))??;
        tracing::info!(
            files = written.len(),
            "empty library: wrote the demo library"
        );
    }
    let cache = ChunkCache::new(config.cache.clone(), config.cache_dir().join("transcode"));
    Ok(AppState(Arc::new(Inner {
        store,
        scan: Default::default(),
        cache,
        started: Instant::now(),
        metrics: observe::install_metrics(),
        active_streams: Default::default(),
        loudness_lock: tokio::sync::Mutex::new(()),
        loudness_running: Default::default(),
        background_jobs: Default::default(),
        config,
    })))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// Runs the server until SIGINT/SIGTERM. `on_listening` is told the bound address (the port may
/// have been 0). In-flight responses get `shutdown_grace_secs` to finish.
pub async fn serve(
    config: Config,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    let state = prepare(config).await?;
    let listen = state.config.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| ServeError::Bind(listen, e))?;
    let addr = listener.local_addr()?;
    if state.config.scan_on_start {
        routes::library::start_scan(&state);
    }
    let sweeper_cache = state.cache.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(30));
        loop {
            tick.tick().await;
            let dropped = sweeper_cache.sweep(stream_cache::available_memory());
            if dropped > 0 {
                tracing::debug!(dropped, "stream cache sweep");
            }
        }
    });
    on_listening(addr);
    let grace = Duration::from_secs(state.config.shutdown_grace_secs);
    let store = state.store.clone();
    let app = router(state);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown({
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    });
    let server = tokio::spawn(async move { server.await });
    shutdown_signal().await;
    tracing::info!("shutting down: finishing in-flight responses");
    let _ = stop_tx.send(true);
    match tokio::time::timeout(grace, server).await {
        Ok(res) => res.map_err(|e| ServeError::Io(std::io::Error::other(e)))??,
        Err(_) => tracing::warn!("grace period over; closing remaining connections"),
    }
    store.close().await;
    Ok(())
}
