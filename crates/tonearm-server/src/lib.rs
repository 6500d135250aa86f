//! The Tonearm HTTP server: routes, shared state and the process lifecycle around them.

pub mod auth;
pub mod config;
pub mod error;
pub mod guard;
pub mod hls_cache;
pub mod http_range;
pub mod limits;
pub mod observe;
pub mod rooms;
pub mod route_table;
pub mod routes;
pub mod security;
pub mod shared;
pub mod state;
pub mod stream_cache;
pub mod web;

pub use config::Config;

use axum::http::Method;
use axum::routing::{delete, get, post, put, MethodRouter};
use axum::Router;
use route_table::Routes;
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
    #[error("cannot reach redis ({0}): {1}")]
    Redis(String, shared::SharedError),
    #[error(transparent)]
    Objects(#[from] tonearm_store::ObjectsError),
    #[error("demo library: {0}")]
    Demo(#[from] tonearm_library::demo::DemoError),
}

/// Routes only admins may call, as (method, path, handler). The router's admin class is built
/// from this table and the tests enumerate it, so a new admin route is guarded and checked.
/// Whether a route's request may run at most `limits.request_timeout_secs`.
#[derive(Clone, Copy, PartialEq)]
enum Timed {
    Yes,
    /// Long bodies or responses (uploads, streams).
    No,
}

fn admin_table() -> Vec<(Method, &'static str, MethodRouter<AppState>, Timed)> {
    use routes::{library, users};
    use Timed::*;
    vec![
        (
            Method::GET,
            "/api/library/scan",
            get(library::get_scan),
            Yes,
        ),
        (Method::POST, UPLOAD_PATH, upload_route(), No),
        (
            Method::POST,
            "/api/library/scan",
            post(library::post_scan),
            Yes,
        ),
        (
            Method::GET,
            "/api/library/issues",
            get(library::get_issues),
            Yes,
        ),
        (Method::GET, "/api/jobs", get(routes::jobs::list), Yes),
        (Method::POST, "/api/jobs", post(routes::jobs::process), Yes),
        (Method::GET, "/api/users", get(users::list), Yes),
        (Method::POST, "/api/users", post(users::create), Yes),
        (
            Method::DELETE,
            "/api/users/{id}",
            delete(users::delete),
            Yes,
        ),
        (
            Method::PUT,
            "/api/users/{id}/password",
            put(users::set_password),
            Yes,
        ),
    ]
}

/// Memory for recently served HLS segments on a node.
const HLS_CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// Where admins upload tracks.
pub const UPLOAD_PATH: &str = "/api/tracks";

/// `POST /api/tracks` with its own body limit (the upload limit, not the API's).
fn upload_route() -> MethodRouter<AppState> {
    post(routes::upload::upload).layer(axum::extract::DefaultBodyLimit::disable())
}

/// The admin-only routes (method, path template).
pub fn admin_routes() -> Vec<(Method, &'static str)> {
    admin_table()
        .into_iter()
        .map(|(m, p, _, _)| (m, p))
        .collect()
}

/// Builds the router over a state (used by `serve` and by tests that embed the app).
/// Routes come in classes, each behind its guard: public, viewer (catalog and streaming:
/// signed-in users, or anyone with `auth.public_library`), user, admin.
pub fn router(state: AppState) -> Router {
    use routes::{auth as auth_routes, catalog, ops, rooms as rooms_routes, stream};
    let request_id = axum::http::HeaderName::from_static("x-request-id");
    let limits = &state.config.limits;
    let timeout = || {
        axum::middleware::from_fn_with_state(
            Duration::from_secs(limits.request_timeout_secs),
            time_limit,
        )
    };
    let public = Routes::new()
        .route("/health", get(ops::health))
        .route("/metrics", get(ops::metrics))
        .route("/api/auth/login", post(auth_routes::login))
        .with(|r| r.route_layer(timeout()));
    let token = Routes::new()
        .route("/api/auth/refresh", post(auth_routes::refresh))
        .route(
            "/api/setup",
            get(auth_routes::setup_status).post(auth_routes::setup),
        )
        .with(|r| {
            r.route_layer(axum::middleware::from_fn_with_state(
                (state.clone(), limits::Class::Token),
                guard::limit,
            ))
        })
        .with(|r| r.route_layer(timeout()));
    // Streams get no timeout: they last as long as the track.
    let streams = Routes::new()
        .route("/api/tracks/{id}/stream", get(stream::stream))
        .route("/cdn/stream/{id}", get(stream::stream));
    let viewer = Routes::new()
        .route("/api/tracks", get(catalog::list_tracks))
        .route("/api/tracks/{id}", get(catalog::get_track))
        .route("/api/tracks/{id}/cover", get(catalog::get_cover))
        .route("/api/tracks/{id}/analysis", get(routes::analysis::get))
        .route(
            "/api/tracks/{id}/processing",
            get(routes::jobs::track_status),
        )
        .route("/api/tracks/{id}/hls/master.m3u8", get(routes::hls::master))
        .route(
            "/api/tracks/{id}/hls/{variant}/index.m3u8",
            get(routes::hls::media),
        )
        .route(
            "/api/tracks/{id}/hls/{variant}/{file}",
            get(routes::hls::file),
        )
        .route("/api/albums", get(catalog::list_albums))
        .route("/api/albums/{id}", get(catalog::get_album))
        .route("/api/artists", get(catalog::list_artists))
        .route("/api/artists/{id}", get(catalog::get_artist))
        .with(|r| r.route_layer(timeout()))
        .merge(streams)
        .with(|r| {
            r.route_layer(axum::middleware::from_fn_with_state(
                (state.clone(), guard::Level::Viewer),
                guard::require,
            ))
        });
    // HLS keys: a signed link is the credential (players that cannot send headers fetch it),
    // and every address gets `hls.key_per_minute`.
    let hls_key = Routes::new()
        .route("/api/tracks/{id}/hls/key", get(routes::hls::key))
        .with(|r| {
            r.route_layer(axum::middleware::from_fn_with_state(
                (state.clone(), limits::Class::HlsKey),
                guard::limit,
            ))
        })
        .with(|r| r.route_layer(timeout()));
    let user = Routes::new()
        .route("/api/me", get(auth_routes::me))
        .route("/api/auth/logout", post(auth_routes::logout))
        .route(
            "/api/keys",
            get(auth_routes::list_keys).post(auth_routes::create_key),
        )
        .route("/api/keys/{id}", delete(auth_routes::revoke_key))
        .with(|r| {
            r.route_layer(axum::middleware::from_fn_with_state(
                (state.clone(), guard::Level::User),
                guard::require,
            ))
        })
        .with(|r| {
            r.route_layer(axum::middleware::from_fn_with_state(
                (state.clone(), limits::Class::Token),
                guard::limit,
            ))
        })
        .with(|r| r.route_layer(timeout()));
    let admin = admin_table()
        .into_iter()
        .fold(Routes::new(), |r, (_, path, handler, timed)| {
            r.route(
                path,
                match timed {
                    Timed::Yes => handler.layer(timeout()),
                    Timed::No => handler,
                },
            )
        })
        .with(|r| {
            r.route_layer(axum::middleware::from_fn_with_state(
                (state.clone(), guard::Level::Admin),
                guard::require,
            ))
        });
    // Listening rooms need no account. Creating one counts against the token-class limit.
    let rooms = Routes::new()
        .route(
            "/api/rooms",
            post(rooms_routes::create)
                .route_layer(axum::middleware::from_fn_with_state(
                    (state.clone(), limits::Class::Token),
                    guard::limit,
                ))
                .get(rooms_routes::list),
        )
        .route(
            "/api/rooms/{id}",
            get(rooms_routes::get).delete(rooms_routes::delete),
        )
        .route("/api/rooms/{id}/stats", get(rooms_routes::stats))
        .with(|r| r.route_layer(timeout()))
        // Long-lived: added after the time limit so it does not apply.
        .route("/api/rooms/{id}/media", get(rooms_routes::media));
    // Socket.IO (rooms) sits outside the HTTP layers: its connections are long-lived and have
    // their own limits (connections, participants, frame and chat rates).
    let (socket_layer, io) = socketioxide::SocketIo::builder()
        .with_state(state.clone())
        .req_path(rooms::SOCKET_PATH)
        .max_buffer_size(512)
        // A guest sends only small events: a small read buffer per connection.
        .ws_read_buffer_size(1024)
        .ping_interval(Duration::from_secs(10))
        .ping_timeout(Duration::from_secs(10))
        // Nothing a room needs is large (an audio frame is ≤ 4 KB, a chat line ≤ 500 chars):
        // bound every way a client could make the server buffer (the crate allows 64 MiB).
        .max_payload(256 * 1024)
        .ws_max_message_size(256 * 1024)
        .ws_max_frame_size(256 * 1024)
        .with_parser(
            socketioxide::ParserConfig::common()
                .max_incoming_binary_buf_size(256 * 1024)
                .max_incoming_binaries(4),
        )
        .build_layer();
    rooms::socket::register(&io);
    state.rooms.set_outlet(Arc::new(rooms::SioOutlet(io)));
    let cors = security::cors(&state.config.http.cors_origins);
    let (app, own_paths) = public
        .merge(token)
        .merge(viewer)
        .merge(hls_key)
        .merge(user)
        .merge(admin)
        .merge(rooms)
        .claim(rooms::SOCKET_PATH)
        .into_parts();
    let own_paths = Arc::new(own_paths);
    app.fallback({
            let dir = web::locate(state.config.web.dir.as_deref());
            match &dir {
                Some(d) => tracing::info!(dir = %d.display(), "serving the web app"),
                None => tracing::warn!("the web app is not built (make run builds it)"),
            }
            move |req: axum::extract::Request| web::serve(dir.clone(), own_paths.clone(), req)
        })
        .method_not_allowed_fallback(|| async {
            error::ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method",
            )
        })
        .layer(axum::extract::DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state((state.clone(), limits::Class::Api), guard::limit))
        .layer(axum::middleware::from_fn_with_state(state.clone(), security::headers))
        .layer(cors)
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(limits.max_concurrent_requests))
        .layer(axum::middleware::from_fn(observe::track_metrics))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            // The path only: query strings may carry secrets.
            tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path())
        }))
        .layer(SetRequestIdLayer::new(request_id, observe::RequestIds::default()))
        .layer(socket_layer)
        .layer(axum::middleware::map_request(rooms::own_socket_headers))
        .with_state(state)
}

/// Ends a non-streaming request that runs longer than `limit` with a JSON 408 (the error
/// shape every other refusal has).
async fn time_limit(
    axum::extract::State(limit): axum::extract::State<Duration>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => error::ApiError::new(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            "timeout",
            format!("the request took longer than {} s", limit.as_secs()),
        )
        .into_response(),
    }
}

/// Opens the data dir and database, builds the state (without listening).
pub async fn prepare(mut config: Config) -> Result<AppState, ServeError> {
    std::fs::create_dir_all(&config.data)
        .map_err(|e| ServeError::DataDir(config.data.clone(), e))?;
    // Absolute from here on: track ids hash paths, and the scanner canonicalizes its roots, so
    // an upload into a relative `./data` must get the same path the next scan will see.
    config.data = std::fs::canonicalize(&config.data)
        .map_err(|e| ServeError::DataDir(config.data.clone(), e))?;
    for dir in [config.media_dir(), config.uploads_dir(), config.cache_dir()] {
        std::fs::create_dir_all(&dir).map_err(|e| ServeError::DataDir(dir.clone(), e))?;
    }
    // A folder that exists but cannot be written would fail later, deep in SQLite or a cache
    // write, with a less useful message: find out now.
    let probe = config.data.join(".write-check");
    std::fs::write(&probe, b"")
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|e| ServeError::DataDir(config.data.clone(), e))?;
    if let Some(up) = &config.upload_dir {
        // Absolute, like the data dir: upload paths are hashed into track ids.
        config.upload_dir =
            Some(std::fs::canonicalize(up).map_err(|e| ServeError::DataDir(up.clone(), e))?);
    }
    let store =
        tonearm_store::Store::open_url_or(config.database.url.as_deref(), &config.db_path())
            .await?;
    let media = config.media_dir();
    let has_audio = tokio::task::spawn_blocking(move || tonearm_library::scan::has_audio(&media))
        .await
        .map_err(|e| ServeError::Io(std::io::Error::other(e)))?;
    if config.demo_on_empty && config.library.is_empty() && !has_audio {
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
    let objects = tonearm_store::Objects::open(&config.storage, &config.data)?;
    let jwt = auth::tokens::JwtKeys::load(
        config.auth.jwt_secret.as_deref(),
        &config.data.join("jwt.key"),
    )
    .map_err(|e| ServeError::DataDir(config.data.join("jwt.key"), e))?;
    // No user yet: a one-time token lets whoever runs the server create the first admin.
    let setup_token = (store.user_count().await? == 0).then(|| auth::tokens::random_token(24));
    let shared = connect_shared(&config).await?;
    auth::sessions::republish(shared.as_ref(), &config.auth, &store).await?;
    let limits = limits::Limits::new(&config.limits, config.hls.key_per_minute, shared.clone());
    let rooms = Arc::new(tonearm_rooms::engine::Rooms::new(config.rooms.clone()));
    if let Some(s) = &shared {
        rooms.set_cluster(tonearm_rooms::engine::cluster::Cluster::new(
            s.connection(),
            config.rooms.idle_close_secs,
        ));
    }
    let pipeline = Arc::new(tonearm_pipeline::Pipeline::new(
        store.clone(),
        objects,
        config.jobs.clone(),
        &config.data,
    ));
    Ok(AppState(Arc::new(Inner {
        store,
        jwt,
        limits,
        rooms,
        shared,
        setup_token: std::sync::Mutex::new(setup_token),
        scan: Default::default(),
        cache,
        started: Instant::now(),
        metrics: observe::install_metrics(),
        active_streams: Default::default(),
        pipeline,
        hls_cache: hls_cache::HlsCache::new(HLS_CACHE_BYTES),
        background_jobs: Default::default(),
        config,
    })))
}

/// The shared Redis, if configured (a configured but unreachable Redis stops the start:
/// running as a lone node would silently split limits and revocations).
pub async fn connect_shared(config: &Config) -> Result<Option<shared::Shared>, ServeError> {
    let Some(url) = &config.redis.url else {
        return Ok(None);
    };
    let shown = redact_url(url);
    let s = shared::Shared::connect(url)
        .await
        .map_err(|e| ServeError::Redis(shown.clone(), e))?;
    tracing::info!(redis = %shown, "sharing limits and revocations through redis");
    Ok(Some(s))
}

/// A URL without its password, for logs and errors.
fn redact_url(url: &str) -> String {
    match (url.split_once("://"), url.rfind('@')) {
        (Some((scheme, _)), Some(at)) => format!("{scheme}://***@{}", &url[at + 1..]),
        _ => url.to_string(),
    }
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
    let sweeper_state = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(30));
        loop {
            tick.tick().await;
            sweeper_state.limits.prune();
            let dropped = sweeper_cache.sweep(stream_cache::available_memory());
            if dropped > 0 {
                tracing::debug!(dropped, "stream cache sweep");
            }
        }
    });
    on_listening(addr);
    if let Some(token) = state.setup_token.lock().ok().and_then(|t| t.clone()) {
        // Shown once, to whoever started the server; there are no default passwords.
        println!("no users yet: create the first admin with `tonearm user add NAME --admin`,");
        println!("or POST http://{addr}/api/setup {{\"token\": \"{token}\", \"username\": …, \"password\": …}}");
    }
    let grace = Duration::from_secs(state.config.shutdown_grace_secs);
    let store = state.store.clone();
    let app = router(state.clone());
    if let (Some(url), Some(_)) = (&state.config.redis.url, state.rooms.cluster()) {
        tonearm_rooms::engine::cluster::spawn_subscriber(state.rooms.clone(), url.clone());
    }
    state.pipeline.spawn();
    tonearm_rooms::engine::ticker::spawn(state.rooms.clone());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // No Nagle: a room frame is a small write that must leave now, not wait up to a delayed
    // ACK (40 ms) behind the previous one.
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("TCP_NODELAY: {e}");
        }
    });
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
