//! `/health` answers 503 when the database cannot be reached: the real app over a real SQLite
//! file whose pool has been closed underneath it.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

#[tokio::test(flavor = "multi_thread")]
async fn health_is_503_when_the_database_is_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let config = tonearm_server::Config {
        data: dir.path().to_path_buf(),
        demo_on_empty: false,
        scan_on_start: false,
        ..Default::default()
    };
    let state = tonearm_server::prepare(config).await.unwrap();
    let app = tonearm_server::router(state.clone());
    let ok = app
        .clone()
        .oneshot(Request::get("/health").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    state.store.close().await;
    let down = app
        .oneshot(Request::get("/health").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = axum::body::to_bytes(down.into_body(), 1 << 20)
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["status"], "degraded");
    assert!(v["db"].as_str().unwrap().starts_with("error"), "{v}");
}
