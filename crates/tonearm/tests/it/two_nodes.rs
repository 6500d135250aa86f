//! Two server processes sharing one real Redis behave as one server: a rate limit and a login
//! lockout earned on one node hold on the other, and a session ended on one node is refused by
//! the other at once. The nodes have separate databases on purpose, so Redis is the only thing
//! they share (besides the signing key) and these tests fail if it is not used.

use crate::common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn a_rate_limit_and_a_lockout_are_enforced_across_nodes() {
    let (a, b) = two_nodes(&[
        ("TONEARM_LIMITS__TOKEN_PER_MINUTE", "4"),
        ("TONEARM_LIMITS__LOGIN_PER_MINUTE", "100"),
    ])
    .await;
    // Token endpoints, 4 per minute per client, asked of alternating nodes.
    let mut statuses = Vec::new();
    for i in 0..6 {
        let node = if i % 2 == 0 { &a } else { &b };
        let r = post_json(
            node.url("/api/auth/refresh"),
            json!({ "refresh_token": "nope" }),
        )
        .await;
        if r.status() == 429 {
            let retry: u64 = r.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=15).contains(&retry), "retry-after {retry}");
        }
        statuses.push(r.status().as_u16());
    }
    assert_eq!(
        statuses,
        [401, 401, 401, 401, 429, 429],
        "one budget for both nodes"
    );

    // Five failed logins on A lock the name out on B (the per-minute login limit is high here,
    // so the lockout is the only reason for a 429).
    for _ in 0..5 {
        let r = post_json(
            a.url("/api/auth/login"),
            json!({ "username": "erin", "password": "wrong-password" }),
        )
        .await;
        assert_eq!(r.status(), 401);
    }
    let r = post_json(
        b.url("/api/auth/login"),
        json!({ "username": "erin", "password": "wrong-password" }),
    )
    .await;
    assert_eq!(r.status(), 429, "lockout earned on A holds on B");
    let r = post_json(
        b.url("/api/auth/login"),
        json!({ "username": "other", "password": "wrong-password" }),
    )
    .await;
    assert_eq!(r.status(), 401, "other names are not locked");
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_ended_on_one_node_are_refused_by_the_other() {
    let (mut a, b) = two_nodes(&[]).await;
    add_user(&a.dir.path().join("data"), "alice", "alice-password", false);

    // A token from A works on B (same signing key) until A ends its session.
    let first = login(&a.base, "alice", "alice-password").await;
    assert_eq!(me_status(&b.base, &first).await, 200);
    assert_eq!(logout(&a.base, &first).await, 204);
    assert_eq!(
        me_status(&b.base, &first).await,
        401,
        "logout on A ends the session on B"
    );

    // A password change on A ends every session of the user, on B too.
    let second = login(&a.base, "alice", "alice-password").await;
    assert_eq!(me_status(&b.base, &second).await, 200);
    let users = a.json("/api/users").await;
    let alice = users["items"]
        .as_array()
        .and_then(|u| u.iter().find(|u| u["name"] == "alice"))
        .unwrap_or_else(|| panic!("alice in {users}"));
    let id = alice["id"].as_str().unwrap().to_string();
    let r = a
        .client
        .put(a.url(&format!("/api/users/{id}/password")))
        .json(&json!({ "password": "alice-new-password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        me_status(&b.base, &second).await,
        401,
        "password change on A ends sessions on B"
    );

    // Deleting the user on A ends their sessions on B.
    let third = login(&a.base, "alice", "alice-new-password").await;
    assert_eq!(me_status(&b.base, &third).await, 200);
    let r = a
        .client
        .delete(a.url(&format!("/api/users/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        me_status(&b.base, &third).await,
        401,
        "deleting on A ends sessions on B"
    );

    // If Redis loses its data, B no longer knows of a logout (it keeps no copy of its own)...
    add_user(&a.dir.path().join("data"), "bob", "bob-password", false);
    let bob = login(&a.base, "bob", "bob-password").await;
    assert_eq!(logout(&a.base, &bob).await, 204);
    assert_eq!(me_status(&b.base, &bob).await, 401);
    let redis = a.backend.redis_server().unwrap();
    assert_eq!(redis.command("FLUSHALL"), "+OK");
    assert_eq!(
        me_status(&b.base, &bob).await,
        200,
        "B trusts the shared list"
    );
    // ...until a node starts: it re-publishes the revocations its database remembers.
    assert_eq!(me_status(&b.base, &third).await, 200, "nor of a deletion");
    a.restart().await;
    assert_eq!(
        me_status(&b.base, &bob).await,
        401,
        "restart re-publishes revocations"
    );
    assert_eq!(me_status(&b.base, &third).await, 401, "and deletions");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redis_outage_degrades_to_per_node_limits_and_database_revocation() {
    let mut a = TestServer::start_on(
        Backend::redis(),
        |_| {},
        &[("TONEARM_LIMITS__TOKEN_PER_MINUTE", "5")],
    )
    .await;
    let token = login(&a.base, ADMIN, ADMIN_PASSWORD).await;
    match &mut a.backend {
        Backend::Redis(r) => r.stop(),
        _ => unreachable!("started on redis"),
    }
    // Requests are still served, revocation is still checked (in the database)...
    assert_eq!(me_status(&a.base, &token).await, 200);
    assert_eq!(logout(&a.base, &token).await, 204);
    assert_eq!(me_status(&a.base, &token).await, 401);
    // ...and limits still hold, counted by the node: the three requests above (user routes
    // count as token-class) used three of five.
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let r = post_json(
            a.url("/api/auth/refresh"),
            json!({ "refresh_token": "nope" }),
        )
        .await;
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 429]);
}
