//! Accounts and tokens through the real server: sign-in, refresh rotation and theft detection,
//! logout, expiry, forged tokens, roles on every admin route, API keys, first-admin setup.

use crate::common::*;
use serde_json::{json, Value};
use std::process::Stdio;

on_both_backends!(refresh_rotates_and_reuse_revokes_the_family);
async fn refresh_rotates_and_reuse_revokes_the_family(backend: Backend) {
    let s = TestServer::start_on(backend, |_| {}, &[]).await;
    let first = login_full(&s.base, ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(first["token_type"], "Bearer");
    assert_eq!(first["expires_in"], 900);
    let r1 = first["refresh_token"].as_str().unwrap();
    let rot = post_json(s.url("/api/auth/refresh"), json!({ "refresh_token": r1 })).await;
    assert_eq!(rot.status(), 200);
    let rot: Value = rot.json().await.unwrap();
    let (a2, r2) = (
        rot["access_token"].as_str().unwrap(),
        rot["refresh_token"].as_str().unwrap(),
    );
    assert_ne!(r1, r2);
    assert_eq!(me_status(&s.base, a2).await, 200);
    // The rotated token presented again: theft. The whole family dies.
    let reuse = post_json(s.url("/api/auth/refresh"), json!({ "refresh_token": r1 })).await;
    assert_eq!(reuse.status(), 401);
    assert_eq!(
        reuse.json::<Value>().await.unwrap()["error"]["code"],
        "token_reused"
    );
    assert_eq!(
        post_json(s.url("/api/auth/refresh"), json!({ "refresh_token": r2 }))
            .await
            .status(),
        401
    );
    assert_eq!(
        me_status(&s.base, a2).await,
        401,
        "access tokens of a revoked family stop at once"
    );
    assert_eq!(
        me_status(&s.base, first["access_token"].as_str().unwrap()).await,
        401
    );
    // Other sessions are untouched.
    let other = login_full(&s.base, ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(
        me_status(&s.base, other["access_token"].as_str().unwrap()).await,
        200
    );
}

on_both_backends!(logout_ends_the_session_and_survives_a_restart);
async fn logout_ends_the_session_and_survives_a_restart(backend: Backend) {
    let mut s = TestServer::start_on(backend, |_| {}, &[]).await;
    let t = login_full(&s.base, ADMIN, ADMIN_PASSWORD).await;
    let access = t["access_token"].as_str().unwrap().to_string();
    let refresh = t["refresh_token"].as_str().unwrap().to_string();
    let keep = login_full(&s.base, ADMIN, ADMIN_PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(logout(&s.base, &access).await, 204);
    assert_eq!(me_status(&s.base, &access).await, 401);
    s.restart().await;
    assert_eq!(
        me_status(&s.base, &access).await,
        401,
        "revocation is stored, not in memory"
    );
    let r = post_json(
        s.url("/api/auth/refresh"),
        json!({ "refresh_token": refresh }),
    )
    .await;
    assert_eq!(r.status(), 401);
    assert_eq!(
        me_status(&s.base, &keep).await,
        200,
        "the signing key and other sessions survive restarts"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_logins_look_the_same_whether_or_not_the_name_exists() {
    let s = TestServer::start(|_| {}).await;
    let anon = reqwest::Client::new();
    let wrong = post_json(
        s.url("/api/auth/login"),
        json!({ "username": ADMIN, "password": "nope-nope-nope" }),
    )
    .await;
    let unknown = post_json(
        s.url("/api/auth/login"),
        json!({ "username": "ghost", "password": "nope-nope-nope" }),
    )
    .await;
    assert_eq!(wrong.status(), 401);
    assert_eq!(unknown.status(), 401);
    assert_eq!(
        wrong.json::<Value>().await.unwrap(),
        unknown.json::<Value>().await.unwrap()
    );
    // Names are case-insensitive; malformed bodies are a 400, not a crash.
    let r = post_json(
        s.url("/api/auth/login"),
        json!({ "username": "ADMIN", "password": ADMIN_PASSWORD }),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = anon
        .post(s.url("/api/auth/login"))
        .body("{not json")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

on_both_backends!(expired_forged_and_orphaned_tokens_are_refused);
async fn expired_forged_and_orphaned_tokens_are_refused(backend: Backend) {
    let s = TestServer::start_on(backend, |_| {}, &[("TONEARM_AUTH__ACCESS_TTL_SECS", "1")]).await;
    let t = login_full(&s.base, ADMIN, ADMIN_PASSWORD).await;
    let access = t["access_token"].as_str().unwrap().to_string();
    assert_eq!(t["expires_in"], 1);
    // Forged: payload changed (role escalation attempt), and alg "none".
    let parts: Vec<&str> = access.split('.').collect();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut claims: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    claims["role"] = json!("admin");
    claims["name"] = json!("mallory");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64.encode(claims.to_string()),
        parts[2]
    );
    assert_eq!(me_status(&s.base, &forged).await, 401);
    let none = format!(
        "{}.{}.",
        b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );
    assert_eq!(me_status(&s.base, &none).await, 401);
    assert_eq!(me_status(&s.base, "garbage").await, 401);
    // Expiry: valid now, refused once its one-second lifetime has passed.
    s.until(10, "the token to expire", || async {
        (me_status(&s.base, &access).await == 401).then_some(())
    })
    .await;
    let r = reqwest::Client::new()
        .get(s.url("/api/me"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    // A token of a user who was deleted (fresh admin tokens: they live one second here).
    let admin = client_with_token(
        login_full(&s.base, ADMIN, ADMIN_PASSWORD).await["access_token"]
            .as_str()
            .unwrap(),
    );
    let r = admin
        .post(s.url("/api/users"))
        .json(&json!({ "username": "bob", "password": "bob-password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let bob_id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let bob = login_full(&s.base, "bob", "bob-password").await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let admin = login_full(&s.base, ADMIN, ADMIN_PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let del = reqwest::Client::new()
        .delete(s.url(&format!("/api/users/{bob_id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 204);
    assert_eq!(me_status(&s.base, &bob).await, 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_admin_route_refuses_anonymous_and_plain_users() {
    let s = TestServer::start(|_| {}).await;
    add_user(&s.dir.path().join("data"), "carol", "carol-password", false);
    let carol = client_with_token(&login(&s.base, "carol", "carol-password").await);
    let anon = reqwest::Client::new();
    let routes = tonearm_server::admin_routes();
    assert!(routes.len() >= 7);
    for (method, path) in routes {
        let path = path.replace("{id}", "nobody");
        let req = |c: &reqwest::Client| {
            c.request(method.clone(), s.url(&path))
                .json(&json!({}))
                .send()
        };
        assert_eq!(
            req(&anon).await.unwrap().status(),
            401,
            "{method} {path} anonymous"
        );
        assert_eq!(
            req(&carol).await.unwrap().status(),
            403,
            "{method} {path} as a plain user"
        );
        let status = req(&s.client).await.unwrap().status().as_u16();
        assert!(
            status != 401 && status != 403,
            "{method} {path} as admin: {status}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_library_needs_a_user_unless_it_is_public() {
    let fill = |lib: &std::path::Path| {
        wav(
            &lib.join("a.wav"),
            &tonearm_media::synth::sine(440.0, 1.0, 44_100, 1, 0.3),
        )
    };
    let s = TestServer::start(fill).await;
    let anon = reqwest::Client::new();
    let id = s.track_id("a").await;
    for path in [
        "/api/tracks".to_string(),
        format!("/api/tracks/{id}/stream"),
        "/api/albums".into(),
        "/api/artists".into(),
    ] {
        assert_eq!(
            anon.get(s.url(&path)).send().await.unwrap().status(),
            401,
            "{path}"
        );
    }
    assert_eq!(
        anon.get(s.url("/health")).send().await.unwrap().status(),
        200
    );
    let open = TestServer::start_with(fill, &[("TONEARM_AUTH__PUBLIC_LIBRARY", "true")]).await;
    let id = open.track_id("a").await;
    assert_eq!(
        anon.get(open.url("/api/tracks"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        anon.get(open.url(&format!("/api/tracks/{id}/stream")))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        anon.post(open.url("/api/library/scan"))
            .send()
            .await
            .unwrap()
            .status(),
        401,
        "management stays admin-only"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn api_keys_are_shown_once_work_and_can_be_revoked() {
    let s = TestServer::start(|_| {}).await;
    let r = s
        .client
        .post(s.url("/api/keys"))
        .json(&json!({ "name": "cli script" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let key = created["key"].as_str().unwrap().to_string();
    assert!(key.starts_with("tnm_"));
    let list: Value = s.json("/api/keys").await;
    assert_eq!(list["items"][0]["name"], "cli script");
    assert!(
        !list.to_string().contains(&key),
        "the secret is never listed"
    );
    let anon = reqwest::Client::new();
    let by_header = anon
        .get(s.url("/api/me"))
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(by_header.status(), 200);
    assert_eq!(by_header.json::<Value>().await.unwrap()["name"], ADMIN);
    assert_eq!(
        anon.get(s.url("/api/library/scan"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let del = s
        .client
        .delete(s.url(&format!("/api/keys/{}", created["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 204);
    assert_eq!(
        anon.get(s.url("/api/me"))
            .header("x-api-key", &key)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        anon.get(s.url("/api/me"))
            .header("x-api-key", "tnm_made_up")
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn first_start_offers_a_one_time_setup_token() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base, mut lines) =
        spawn_server_on(dir.path(), None, &[("TONEARM_DEMO_ON_EMPTY", "false")]);
    let _hint = lines.next().unwrap().unwrap();
    let setup_line = lines.next().unwrap().unwrap();
    let token = setup_line
        .split("\"token\": \"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let c = reqwest::Client::new();
    let needed: Value = c
        .get(format!("{base}/api/setup"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(needed["needed"], true);
    let setup = |body: Value| c.post(format!("{base}/api/setup")).json(&body).send();
    let body = |t: &str| json!({ "token": t, "username": "root", "password": "root-password" });
    assert_eq!(setup(body("wrong")).await.unwrap().status(), 403);
    let weak = json!({ "token": token, "username": "root", "password": "short" });
    assert_eq!(setup(weak).await.unwrap().status(), 400);
    assert_eq!(setup(body(&token)).await.unwrap().status(), 201);
    assert_eq!(
        setup(body(&token)).await.unwrap().status(),
        403,
        "single use"
    );
    let access = login(&base, "root", "root-password").await;
    let me: Value = client_with_token(&access)
        .get(format!("{base}/api/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "admin");
    let _ = child.kill();
    let _ = child.wait();
}

on_both_backends!(the_cli_manages_users_and_a_new_password_ends_sessions);
async fn the_cli_manages_users_and_a_new_password_ends_sessions(backend: Backend) {
    let s = TestServer::start_on(backend, |_| {}, &[]).await;
    let data = s.dir.path().join("data");
    add_user(&data, "dave", "dave-password", false);
    let dave = login(&s.base, "dave", "dave-password").await;
    let out = s.cli().args(["user", "list"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("admin\tadmin") && text.contains("dave\tuser"),
        "{text}"
    );
    // Duplicate names are refused (names are case-insensitive), with a valid password given.
    let mut dup = s
        .cli()
        .args(["user", "add", "DAVE"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut dup.stdin.take().unwrap(), b"dave-password-2\n").unwrap();
    let dup = dup.wait_with_output().unwrap();
    assert!(!dup.status.success());
    let err = String::from_utf8_lossy(&dup.stderr);
    assert!(err.contains("a user named \"DAVE\" exists"), "{err}");
    let mut p = s
        .cli()
        .args(["user", "passwd", "dave"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut p.stdin.take().unwrap(), b"dave-new-password\n").unwrap();
    assert!(p.wait().unwrap().success());
    assert_eq!(me_status(&s.base, &dave).await, 401);
    let dave = login(&s.base, "dave", "dave-new-password").await;
    assert_eq!(me_status(&s.base, &dave).await, 200);
    let rm = s.cli().args(["user", "remove", "dave"]).output().unwrap();
    assert!(rm.status.success());
    assert_eq!(
        me_status(&s.base, &dave).await,
        401,
        "a removed user's token dies"
    );
    let r = post_json(
        s.url("/api/auth/login"),
        json!({ "username": "dave", "password": "dave-new-password" }),
    )
    .await;
    assert_eq!(r.status(), 401);
}
