//! Abuse limits and browser hardening through the real server: login lockout, per-class rate
//! limits with Retry-After, body size limit, security headers, CORS allow-list.

use crate::common::*;
use serde_json::json;

on_both_backends!(repeated_failed_logins_lock_out_that_name_from_that_client);
async fn repeated_failed_logins_lock_out_that_name_from_that_client(backend: Backend) {
    let s = TestServer::start_on(backend, |_| {}, &[]).await;
    // A fresh name: the harness already signed in as the admin from this address.
    add_user(&s.dir.path().join("data"), "erin", "erin-password", false);
    let attempt = |name: &'static str, pw: &'static str| {
        post_json(
            s.url("/api/auth/login"),
            json!({ "username": name, "password": pw }),
        )
    };
    for _ in 0..5 {
        assert_eq!(attempt("erin", "wrong-password").await.status(), 401);
    }
    let locked = attempt("erin", "wrong-password").await;
    assert_eq!(locked.status(), 429);
    let retry: u64 = locked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "retry-after {retry}");
    // Even the right password waits out the lockout; another name is unaffected.
    assert_eq!(attempt("erin", "erin-password").await.status(), 429);
    assert_eq!(
        attempt("someone-else", "wrong-password").await.status(),
        401
    );
}

on_both_backends!(token_endpoints_and_the_general_api_are_rate_limited);
async fn token_endpoints_and_the_general_api_are_rate_limited(backend: Backend) {
    let s = TestServer::start_on(
        backend,
        |_| {},
        &[
            ("TONEARM_LIMITS__TOKEN_PER_MINUTE", "3"),
            ("TONEARM_LIMITS__API_PER_MINUTE", "100"),
        ],
    )
    .await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let r = post_json(
            s.url("/api/auth/refresh"),
            json!({ "refresh_token": "nope" }),
        )
        .await;
        statuses.push(r.status().as_u16());
        if r.status() == 429 {
            assert!(r.headers().contains_key("retry-after"));
            let body: serde_json::Value = r.json().await.unwrap();
            assert_eq!(body["error"]["code"], "rate_limited");
        }
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429]);
    // The general limit: a burst past 100 requests a minute is cut off.
    let mut limited = 0;
    for _ in 0..130 {
        if s.get("/api/tracks").await.status() == 429 {
            limited += 1;
        }
    }
    assert!(limited >= 20, "{limited} of 130 requests limited");
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_bodies_are_refused_before_any_work() {
    let s = TestServer::start(|_| {}).await;
    let huge = "x".repeat(2 * 1024 * 1024);
    let r = reqwest::Client::new()
        .post(s.url("/api/auth/login"))
        .header("content-type", "application/json")
        .body(format!("{{\"username\":\"{huge}\",\"password\":\"p\"}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    // Headers are bounded too: one huge header, or very many, get 431 (or a closed connection),
    // and the server carries on.
    for (name_count, value_len) in [(1, 1024 * 1024), (500, 10)] {
        let mut req = reqwest::Client::new().get(s.url("/health"));
        for i in 0..name_count {
            req = req.header(format!("x-h{i}"), "v".repeat(value_len));
        }
        match req.send().await {
            Ok(r) => assert_eq!(r.status(), 431, "{name_count} headers of {value_len} bytes"),
            Err(e) => assert!(!e.is_timeout(), "{e}"),
        }
    }
    assert_eq!(s.get("/health").await.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn security_headers_and_cors_allow_list() {
    let s = TestServer::start_with(
        |_| {},
        &[("TONEARM_HTTP__CORS_ORIGINS", "[\"https://app.example\"]")],
    )
    .await;
    let r = s.get("/health").await;
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
    assert!(r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'self'"));
    assert!(
        !r.headers().contains_key("strict-transport-security"),
        "no HSTS without TLS"
    );
    let preflight = |origin: &'static str| {
        reqwest::Client::new()
            .request(reqwest::Method::OPTIONS, s.url("/api/tracks"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let ok = preflight("https://app.example").await.unwrap();
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    let other = preflight("https://evil.example").await.unwrap();
    assert!(!other.headers().contains_key("access-control-allow-origin"));
    // A server with no origins configured allows none.
    let closed = TestServer::start_with(|_| {}, &[("TONEARM_HTTP__HSTS", "true")]).await;
    let r = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, closed.url("/api/tracks"))
        .header("origin", "https://app.example")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert!(!r.headers().contains_key("access-control-allow-origin"));
    assert!(closed
        .get("/health")
        .await
        .headers()
        .contains_key("strict-transport-security"));
}

on_both_backends!(the_per_user_limit_follows_the_account_across_credentials);
async fn the_per_user_limit_follows_the_account_across_credentials(backend: Backend) {
    // Generous per-address limit, tight per-user limit: a second credential of the same user
    // (an API key) shares the user's budget.
    let s = TestServer::start_on(
        backend,
        |_| {},
        &[("TONEARM_LIMITS__API_PER_USER_PER_MINUTE", "40")],
    )
    .await;
    let key: serde_json::Value = s
        .client
        .post(s.url("/api/keys"))
        .json(&json!({ "name": "k" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = key["key"].as_str().unwrap().to_string();
    let by_key = reqwest::Client::new();
    let mut limited = 0;
    for i in 0..60 {
        let r = if i % 2 == 0 {
            s.get("/api/me").await
        } else {
            by_key
                .get(s.url("/api/me"))
                .header("x-api-key", &key)
                .send()
                .await
                .unwrap()
        };
        if r.status() == 429 {
            assert!(r.headers().contains_key("retry-after"));
            limited += 1;
        }
    }
    assert!(limited >= 15, "{limited} of 60 limited");
    // Another user is not affected.
    add_user(&s.dir.path().join("data"), "frank", "frank-password", false);
    let frank = client_with_token(&login(&s.base, "frank", "frank-password").await);
    assert_eq!(
        frank.get(s.url("/api/me")).send().await.unwrap().status(),
        200
    );
}
