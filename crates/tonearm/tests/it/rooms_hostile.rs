//! Hostile input to the live side: malformed Engine.IO / Socket.IO packets and binary frames on
//! the room socket, and every wrong way into the media path. Each gets an error or is ignored;
//! the server keeps serving, and the room is as it was.

use crate::common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// The next text message that is not an Engine.IO ping.
async fn next_text<S>(ws: &mut S) -> String
where
    S: StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let m = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("an answer")
            .expect("open")
            .expect("ok");
        // Engine.IO pings may come at any time (the first right after the handshake).
        if let Message::Text(t) = m {
            if t.as_str() != "2" {
                return t.to_string();
            }
        }
    }
}

/// Sends each message until one fails (the server may close on some of them; that is allowed).
async fn send_all<S>(ws: &mut S, messages: Vec<Message>)
where
    S: SinkExt<Message> + Unpin,
{
    for m in messages {
        if ws.send(m).await.is_err() {
            break;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_room_traffic_changes_nothing_and_the_server_keeps_serving() {
    let s = TestServer::start(|_| {}).await;
    let created: Value = post_json(s.url("/api/rooms"), json!({ "roomName": "calm" }))
        .await
        .json()
        .await
        .unwrap();
    let room = created["roomId"].as_str().unwrap().to_string();
    let before = s.json(&format!("/api/rooms/{room}")).await;

    // A raw socket speaking garbage after a proper handshake.
    let url = tonearm_rooms::ws_url(&s.base, "/socket.io/?EIO=4&transport=websocket").unwrap();
    let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap();
    assert!(next_text(&mut ws).await.starts_with('0'));
    ws.send(Message::text("40")).await.unwrap();
    let ack = next_text(&mut ws).await;
    assert!(ack.starts_with("40"), "{ack}");
    let huge = "x".repeat(200_000);
    let garbage: Vec<Message> = vec![
        Message::text("42"),
        Message::text("42["),
        Message::text("42[]"),
        Message::text("42[17,{}]"),
        Message::text(r#"42["broadcast:audio",{"data":123}]"#),
        Message::text(r#"42["broadcast:audio","not an object"]"#),
        Message::text(r#"451-["broadcast:audio",{"data":{"_placeholder":true,"num":7}}]"#),
        Message::binary(vec![0xff; 64]),
        Message::text(r#"4999999999999999999999-["x",{}]"#),
        Message::text(r#"42["time:ping",{"clientTime":1e999}]"#),
        Message::text(r#"42["chat:message",{"roomId":null,"message":null}]"#),
        Message::text(r#"42["room:join",{"roomId":{"$gt":""}}]"#),
        Message::text(format!(r#"42["room:join",{{"roomId":"{huge}"}}]"#)),
        Message::text(r#"42["room:create",{"roomName":"\u0000\u0007","delayMs":-5}]"#),
        Message::text(r#"42["quality:request",{"quality":["high"]}]"#),
        Message::text(r#"42["stats:report",{"bufferLevel":"NaN"}]"#),
        Message::text(r#"42["broadcast:start",{"roomId":"nope","audioConfig":[1,2,3]}]"#),
        Message::text("6"),
        Message::text("\u{0}\u{1}"),
    ];
    send_all(&mut ws, garbage).await;
    drop(ws);

    // Still serving: health, the room unchanged, and a well-behaved guest works end to end.
    assert_eq!(s.get("/health").await.status(), 200);
    let after = s.json(&format!("/api/rooms/{room}")).await;
    assert_eq!(after["participants"], before["participants"]);
    assert_eq!(after["isLive"], false);
    let rooms = s.json("/api/rooms").await;
    assert_eq!(
        rooms.as_array().unwrap().len(),
        1,
        "no room was made: {rooms}"
    );
    let mut guest = tonearm_rooms::client::sio::connect(&s.base, None)
        .await
        .unwrap();
    let session = guest
        .wait_for(&["session"], Duration::from_secs(10))
        .await
        .unwrap();
    let token = session.data["token"].as_str().unwrap().to_string();

    // The media path refuses every wrong way in, with a JSON error.
    let media = |q: &str| s.url(&format!("/api/rooms/{room}/media{q}"));
    let client = reqwest::Client::new();
    let status = |url: String| {
        let c = client.clone();
        async move {
            let r = c.get(url).send().await.unwrap();
            let code = r.status().as_u16();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            (
                code,
                body["error"]["code"].as_str().unwrap_or("").to_string(),
            )
        }
    };
    assert_eq!(status(media("")).await.0, 400, "no token");
    assert_eq!(
        status(media("?token=forged")).await,
        (401, "bad_token".into())
    );
    assert_eq!(
        status(media(&format!("?token={token}"))).await,
        (403, "not_in_room".into()),
        "a guest must join first"
    );
    assert_eq!(
        status(media(&format!("?token={token}&quality=ultra")))
            .await
            .0,
        400
    );
    assert_eq!(
        status(s.url(&format!("/api/rooms/nope/media?token={token}")))
            .await
            .0,
        404
    );
    guest
        .emitter
        .emit("room:join", &json!({ "roomId": room, "audio": "media" }))
        .unwrap();
    guest
        .wait_for(&["room:joined"], Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(
        status(media(&format!("?token={token}"))).await,
        (426, "websocket_required".into()),
        "a plain GET is not a WebSocket"
    );
    // Joined: the media path opens; garbage sent on it is ignored.
    let mut path =
        tonearm_rooms::client::media::connect(&s.base, &room, &token, tonearm_rooms::Quality::High)
            .await
            .unwrap();
    path.set_quality(tonearm_rooms::Quality::Low).await.unwrap();
    // One media path per member: opening a second ends the first, with a notice.
    let _second =
        tonearm_rooms::client::media::connect(&s.base, &room, &token, tonearm_rooms::Quality::High)
            .await
            .unwrap();
    let first_end = tokio::time::timeout(Duration::from_secs(10), path.next())
        .await
        .expect("the first path hears of it");
    assert!(
        matches!(
            first_end,
            Some(Ok(tonearm_rooms::client::media::MediaMessage::Notice(
                tonearm_rooms::wire::Notice::Closed { .. }
            )))
        ),
        "{first_end:?}"
    );
    drop(path);
    let url =
        tonearm_rooms::ws_url(&s.base, &format!("/api/rooms/{room}/media?token={token}")).unwrap();
    let (mut raw, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap();
    send_all(
        &mut raw,
        vec![
            Message::text("{"),
            Message::text(r#"{"type":"quality","quality":"ultra"}"#),
            Message::binary(vec![1, 2, 3]),
            Message::text("x".repeat(10_000)),
        ],
    )
    .await;
    drop(raw);
    guest
        .emitter
        .emit("time:ping", &json!({ "clientTime": 5 }))
        .unwrap();
    let pong = guest
        .wait_for(&["time:pong"], Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(pong.data["clientTime"], 5);
    assert_eq!(s.get("/health").await.status(), 200);
}
