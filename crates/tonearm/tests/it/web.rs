//! The browser app served at `/`: its files, its own routes answered with `index.html`, cache
//! headers, the server's paths kept apart, and the query token media elements sign in with.

use crate::common::*;
use serde_json::Value;
use std::path::Path;
use tonearm_media::synth::sine;

const INDEX: &str = "<!doctype html><title>Tonearm test build</title><div id=root></div>";
const SCRIPT: &str = "console.log('the app');";

fn fake_build(dir: &Path) {
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(dir.join("index.html"), INDEX).unwrap();
    std::fs::write(dir.join("assets/index-abc123.js"), SCRIPT).unwrap();
}

async fn start(web: &Path) -> TestServer {
    let dir = web.to_str().unwrap().to_string();
    TestServer::start_with(
        |lib| wav(&lib.join("tone.wav"), &sine(440.0, 2.0, 44_100, 2, 0.3)),
        &[("TONEARM_WEB__DIR", dir.as_str())],
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_app_is_served_at_the_root_and_owns_its_routes() {
    let web = tempfile::tempdir().unwrap();
    fake_build(web.path());
    let s = start(web.path()).await;
    let anon = reqwest::Client::new();
    let get = |path: &str| anon.get(s.url(path)).send();

    // The app's routes are pages of the app: index.html, never cached stale.
    for path in ["/", "/room/Ab3dE9x", "/albums/some-id", "/search?q=x"] {
        let r = get(path).await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["cache-control"], "no-cache", "{path}");
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert!(
            r.headers().contains_key("content-security-policy"),
            "{path}"
        );
        assert_eq!(r.text().await.unwrap(), INDEX, "{path}");
    }
    // Hashed assets are immutable; a missing one is a 404, not index.html served as script.
    let js = get("/assets/index-abc123.js").await.unwrap();
    assert_eq!(js.status(), 200);
    assert_eq!(
        js.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(js.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("javascript"));
    assert_eq!(js.text().await.unwrap(), SCRIPT);
    let gone = get("/assets/index-old999.js").await.unwrap();
    assert_eq!(gone.status(), 404);
    assert_ne!(gone.text().await.unwrap(), INDEX);

    // The server's own paths keep their JSON answers.
    // (The list comes from the route table: a path under any routed first segment.)
    for path in [
        "/api/nope",
        "/api",
        "/cdn/nope/x",
        "/health/x",
        "/metrics/x",
    ] {
        let r = get(path).await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found", "{path}");
    }
    let post = anon.post(s.url("/room/x")).send().await.unwrap();
    assert_eq!(post.status(), 405);
    let body: Value = post.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");

    // Nothing outside the build is reachable.
    std::fs::write(web.path().parent().unwrap().join("secret.txt"), "no").ok();
    for path in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/assets/..%2f..%2fsecret.txt",
    ] {
        let r = get(path).await.unwrap();
        let text = r.text().await.unwrap();
        assert_ne!(text, "no", "{path} escaped the build folder");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_build_the_root_says_how_to_make_one() {
    let empty = tempfile::tempdir().unwrap();
    let s = start(empty.path()).await;
    for path in ["/", "/room/x"] {
        let r = reqwest::get(s.url(path)).await.unwrap();
        assert_eq!(r.status(), 404);
        assert!(r.text().await.unwrap().contains("make run"), "{path}");
    }
    // The API is unaffected.
    assert_eq!(reqwest::get(s.url("/health")).await.unwrap().status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn media_elements_sign_in_with_a_query_token_on_catalog_reads_only() {
    let web = tempfile::tempdir().unwrap();
    fake_build(web.path());
    let s = start(web.path()).await;
    let token = login(&s.base, ADMIN, ADMIN_PASSWORD).await;
    let tracks: Value = s.get("/api/tracks").await.json().await.unwrap();
    let id = tracks["items"][0]["id"].as_str().unwrap().to_string();
    let anon = reqwest::Client::new();
    let status = |method: reqwest::Method, path: String| {
        let req = anon.request(method, s.url(&path));
        async move { req.send().await.unwrap().status().as_u16() }
    };
    use reqwest::Method as M;

    // Streams, covers and HLS playlists (what <audio>, <img> and players load) take it.
    let stream = format!("/api/tracks/{id}/stream?quality=low&access_token={token}");
    assert_eq!(status(M::GET, stream.clone()).await, 200);
    assert_eq!(status(M::HEAD, stream).await, 200);
    let list = format!("/api/tracks?access_token={token}");
    assert_eq!(status(M::GET, list).await, 200);
    // The answer is the same as with the header: the stream decodes.
    let bytes = anon
        .get(s.url(&format!(
            "/api/tracks/{id}/stream?quality=low&format=mp3&access_token={token}"
        )))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(bytes.len() > 1000);

    // Without it, or with a wrong one: 401.
    assert_eq!(
        status(M::GET, format!("/api/tracks/{id}/stream")).await,
        401
    );
    assert_eq!(
        status(
            M::GET,
            format!("/api/tracks/{id}/stream?access_token={token}x")
        )
        .await,
        401
    );
    // Only catalog reads: the account, admin routes and writes need the header.
    assert_eq!(
        status(M::GET, format!("/api/me?access_token={token}")).await,
        401
    );
    assert_eq!(
        status(M::GET, format!("/api/users?access_token={token}")).await,
        401
    );
    assert_eq!(
        status(M::POST, format!("/api/library/scan?access_token={token}")).await,
        401
    );
    assert_eq!(
        status(M::GET, format!("/api/library/scan?access_token={token}")).await,
        401
    );
    // A header and a query token together: the header is the credential.
    let r = anon
        .get(s.url(&format!("/api/tracks?access_token={token}")))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}
