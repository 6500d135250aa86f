#!/usr/bin/env python3
"""Listening-room protocol conformance flow (docs/rooms.md), run against a real server.

    python3 flow.py BASE_URL          e.g. python3 flow.py http://127.0.0.1:4567

Runs against a server with default room settings. The client, waiting, REST, clock, pacing
and runner live in client.py (shared with limits.py). Prints "ok - ..." for every passing
check; on the first failure prints "FAIL - <what>, got <value>" and exits 1. Exits 0 only if
every check passed.

Nothing here sleeps and hopes: every expectation waits on a condition with a timeout, and
"X must not arrive" checks use a barrier (a later, valid message on the same connection, or a
time:ping, whose answer proves the unwanted event would have arrived before it) because events
on one Socket.IO connection are handled and arrive in order.
"""

import re
import sys
import time

from client import (
    AUDIO_CONFIG,
    Peer,
    TIMEOUT,
    CheckFailed,
    drain,
    expect,
    find_participant,
    frame_bytes,
    host_frame,
    http,
    is_num,
    joined_ok,
    now_ms,
    run,
    show,
    still_usable,
    take_until,
    wait,
    wait_any,
)

ROOM_NAME = "Flow <b>room</b>"
CHAT_SENT = "  hi <script>x</script>\u0007 "
CHAT_EXPECTED = "hi <script>x</script>"


# --------------------------------------------------------------------------- checks

def check_01_host_session(ctx):
    ctx.host = ctx.peer("host")
    s = ctx.host.session
    expect(isinstance(s, dict), "session payload is an object", s)
    expect(s.get("userId") not in (None, ""), "session.userId present", s)
    expect(isinstance(s.get("username"), str) and re.fullmatch(r"Guest_\d+", s["username"]),
           "session.username like Guest_12345", s.get("username"))
    expect(isinstance(s.get("token"), str) and s["token"], "session.token non-empty string", s)
    return f"host connected as {s['username']}"


def check_02_room_create(ctx):
    h = ctx.host
    h.emit("room:create", {"roomName": ROOM_NAME})
    created = wait(h, "room:created", full=True)
    r = created.data
    ctx.room = r
    expect(isinstance(r.get("roomId"), str) and re.fullmatch(r"[A-Za-z0-9_-]{8,}", r["roomId"]),
           "room:created.roomId URL-safe, >= 8 chars", r.get("roomId"))
    expect(r.get("roomName") == ROOM_NAME, "room:created.roomName as sent (raw)", r.get("roomName"))
    expect(r.get("hostId") == h.user_id, f"room:created.hostId == host userId {h.user_id!r}",
           r.get("hostId"))
    expect(isinstance(r.get("hostToken"), str) and r["hostToken"],
           "room:created.hostToken non-empty string", r.get("hostToken"))
    expect(is_num(r.get("createdAt")) and abs(r["createdAt"] - now_ms()) < 5000,
           "room:created.createdAt server ms near now", r.get("createdAt"))
    joined = wait(h, "room:joined", joined_ok(ctx.room_id), full=True,
                  what=f"for room {ctx.room_id}")
    expect(joined.n > created.n, "room:joined after room:created",
           f"room:joined #{joined.n}, room:created #{created.n}")
    me = find_participant(joined.data.get("participants"), h.user_id)
    expect(me is not None and me.get("isHost") is True,
           "host's room:joined lists the host with isHost true", joined.data.get("participants"))
    return f"room {ctx.room_id} created"


def check_03_rest_listing(ctx):
    status, rooms, text = http(ctx, "GET", "/api/rooms")
    expect(status == 200, "GET /api/rooms status 200", f"{status} {text[:200]}")
    expect(isinstance(rooms, list), "GET /api/rooms is a JSON array", text[:300])
    mine = [r for r in rooms if isinstance(r, dict) and r.get("roomId") == ctx.room_id]
    expect(len(mine) == 1, f"GET /api/rooms lists room {ctx.room_id} once", rooms)
    r = mine[0]
    expect(r.get("roomName") == ROOM_NAME, "listed roomName", r)
    expect(r.get("hostId") == ctx.host.user_id, "listed hostId", r)
    expect(r.get("guestCount") == 0, "listed guestCount 0", r)
    expect(r.get("isLive") is False, "listed isLive false", r)
    expect(r.get("hasPassword") is False, "listed hasPassword false", r)

    status, room, text = http(ctx, "GET", f"/api/rooms/{ctx.room_id}")
    expect(status == 200, f"GET /api/rooms/{ctx.room_id} status 200", f"{status} {text[:200]}")
    expect(isinstance(room, dict), "GET /api/rooms/{id} is a JSON object", text[:300])
    expect(room.get("guestCount") == 0, "room guestCount 0", room)
    me = find_participant(room.get("participants"), ctx.host.user_id)
    expect(me is not None and me.get("isHost") is True,
           "room participants include the host with isHost true", room.get("participants"))
    return "GET /api/rooms and /api/rooms/{id} show the new room"


def check_04_guest_joins(ctx):
    a = ctx.A = ctx.peer("A")
    a.emit("room:join", {"roomId": ctx.room_id})
    j = wait(a, "room:joined", joined_ok(ctx.room_id), what=f"for room {ctx.room_id}")
    expect(j.get("roomName") == ROOM_NAME, "A's room:joined.roomName", j)
    expect(j.get("hostId") == ctx.host.user_id, "A's room:joined.hostId", j)
    expect(j.get("isLive") is False, "A's room:joined.isLive false", j)
    expect(is_num(j.get("serverTime")), "A's room:joined.serverTime numeric", j)
    h = find_participant(j.get("participants"), ctx.host.user_id)
    expect(h is not None and h.get("isHost") is True,
           "A's room:joined participants include the host (isHost true)", j.get("participants"))

    uid = a.user_id

    def in_joined(d):
        return any(p == uid or (isinstance(p, dict) and p.get("userId") == uid)
                   for p in d["joined"])

    got = wait_any(ctx.host, {"user:joined": lambda d: d["userId"] == uid,
                              "participants:update": in_joined},
                   what=f"announcing A ({uid!r})")
    d = got.data
    # One change is a small batch: docs say it goes out as user:joined, not participants:update.
    expect(got.event == "user:joined", "a single join announced to the host as user:joined",
           f"{got.event} {show(d)}")
    expect(d.get("participantCount") == 2, "host's user:joined.participantCount 2", d)
    expect(d.get("username") == a.username and d.get("isHost") is False,
           "host's user:joined has A's username and isHost false", d)
    return "A joined; host got user:joined (participantCount 2)"


def check_05_unknown_room(ctx):
    probe = ctx.peer("probe")
    probe.emit("room:join", {"roomId": "nope-nope"})
    nf = wait(probe, "room:notfound")
    expect(isinstance(nf, dict) and nf.get("roomId") == "nope-nope",
           "room:notfound.roomId == 'nope-nope'", nf)
    still_usable(probe, "after room:notfound")  # barrier: a room:joined would be queued now
    expect(not probe.pending("room:joined"), "no room:joined for an unknown room",
           probe.pending("room:joined"))
    return "room:join of an unknown room -> room:notfound"


def check_06_chat(ctx):
    a = ctx.A
    a.emit("chat:message", {"roomId": ctx.room_id, "message": CHAT_SENT})
    for who in (ctx.host, a):
        m = wait(who, "chat:message", lambda d: d["userId"] == a.user_id,
                 what=f"from A ({a.user_id!r})")
        expect(m.get("message") == CHAT_EXPECTED,
               f"{who.name}'s chat:message text trimmed, control char stripped, HTML raw",
               m.get("message"))
        expect(m.get("username") == a.username, f"{who.name}'s chat:message.username", m)
        expect(m.get("isHost") is False, f"{who.name}'s chat:message.isHost false", m)
        expect(is_num(m.get("timestamp")), f"{who.name}'s chat:message.timestamp numeric", m)
    return "chat message relayed to host and sender, sanitised"


def check_07_chat_history(ctx):
    b = ctx.B = ctx.peer("B")
    b.emit("room:join", {"roomId": ctx.room_id})
    joined = wait(b, "room:joined", joined_ok(ctx.room_id), full=True)
    hist = wait(b, "chat:history", full=True)
    expect(hist.n > joined.n, "chat:history after room:joined",
           f"chat:history #{hist.n}, room:joined #{joined.n}")
    msgs = hist.data.get("messages") if isinstance(hist.data, dict) else None
    expect(isinstance(msgs, list), "chat:history.messages is a list", hist.data)
    hit = [m for m in msgs if isinstance(m, dict) and m.get("message") == CHAT_EXPECTED
           and m.get("userId") == ctx.A.user_id]
    expect(hit, "chat:history contains A's message", msgs)
    expect(hit[0].get("username") == ctx.A.username, "history entry has A's username", hit[0])
    return f"B joined and got chat:history ({len(msgs)} messages)"


def check_08_chat_rate_limit(ctx):
    b = ctx.B
    for i in range(7):
        b.emit("chat:message", {"roomId": ctx.room_id, "message": f"burst {i}"})
    err = wait(b, "error", lambda d: d["code"] == "chat_rate_limited",
               what="with code chat_rate_limited")
    expect(isinstance(err.get("message"), str), "error.message is a string", err)
    still_usable(b, "after being rate limited")
    return "7 fast messages -> chat_rate_limited, connection still usable"


def check_09_chat_too_long(ctx):
    a = ctx.A
    long_msg = "x" * 600
    a.emit("chat:message", {"roomId": ctx.room_id, "message": long_msg})
    wait(a, "error", lambda d: d["code"] == "chat_too_long", what="with code chat_too_long")
    marker = f"marker after too-long {int(now_ms())}"
    a.emit("chat:message", {"roomId": ctx.room_id, "message": marker})
    for who in (ctx.host, a):
        before, _ = take_until(who, "chat:message", lambda d: d["message"] == marker,
                               what="(the marker sent after the too-long message)")
        bad = [m for m in before if isinstance(m, dict) and len(m.get("message") or "") > 500]
        expect(not bad, f"too-long message not broadcast to {who.name}", bad)
    return "600-char message -> chat_too_long, not broadcast"


def check_10_time(ctx):
    h = ctx.host
    t = int(now_ms())
    h.emit("time:ping", {"clientTime": t})
    p = wait(h, "time:pong", lambda d: d["clientTime"] == t, what=f"echoing clientTime {t}")
    recv, send = p.get("serverReceive"), p.get("serverSend")
    expect(is_num(recv) and is_num(send), "time:pong serverReceive/serverSend numeric", p)
    expect(recv <= send, "serverReceive <= serverSend", p)
    local = now_ms()
    expect(abs(recv - local) < 5000 and abs(send - local) < 5000,
           f"server times within 5 s of local clock {local:.0f}", p)
    ctx.sync_clock(h)  # frames below are stamped with the server clock
    return (f"time:pong ok (server - local ~ {send - local:+.0f} ms, "
            f"offset {ctx.clock_offset:+.1f} ms from a ping burst)")


def check_11_broadcast_start(ctx):
    a, b, h = ctx.A, ctx.B, ctx.host
    a.emit("broadcast:start", {"roomId": ctx.room_id, "audioConfig": AUDIO_CONFIG})
    err = wait(a, "broadcast:error", what="after a guest's broadcast:start")
    expect(isinstance(err, dict) and isinstance(err.get("message"), str),
           "broadcast:error.message string", err)
    still_usable(a, "after its refused broadcast:start")  # barrier
    expect(not a.pending("broadcast:started"), "guest's broadcast:start did not start anything",
           a.pending("broadcast:started"))

    h.emit("broadcast:start", {"roomId": ctx.room_id, "audioConfig": AUDIO_CONFIG})
    for who in (a, b):
        s = wait(who, "broadcast:started", joined_ok(ctx.room_id), what="after host's start")
        cfg = s.get("audioConfig") or {}
        expect(all(cfg.get(k) == v for k, v in AUDIO_CONFIG.items()),
               f"{who.name}'s broadcast:started.audioConfig as sent", s)
        expect(is_num(s.get("startedAt")), f"{who.name}'s broadcast:started.startedAt numeric", s)
    return "guest refused; host's start reached A and B"


def check_audio_run(who, frames, received, what):
    """`received` must be the payloads of `frames` in order: same bytes, increasing seq."""
    last_seq = None
    for i, (sent, got) in enumerate(zip(frames, received)):
        expect(isinstance(got, dict), f"{who}: {what} #{i} is an object", got)
        data = got.get("data")
        expect(isinstance(data, bytes), f"{who}: {what} #{i} data is binary", type(data).__name__)
        expect(data == sent["data"], f"{who}: {what} #{i} data byte-for-byte",
               f"{data[:16].hex()}... ({len(data)} bytes)")
        seq = got.get("seq")
        expect(is_num(seq), f"{who}: {what} #{i} seq numeric", got)
        expect(last_seq is None or seq > last_seq, f"{who}: {what} seq strictly increasing",
               f"seq {seq} after {last_seq}")
        last_seq = seq
        expect(is_num(got.get("serverTime")), f"{who}: {what} #{i} serverTime present", got)
        expect(got.get("timestamp") == sent["timestamp"], f"{who}: {what} #{i} timestamp relayed",
               f"{got.get('timestamp')} (sent {sent['timestamp']})")


def check_12_audio(ctx):
    payloads = [frame_bytes(0x12, i) for i in range(10)]
    expect(len(set(payloads)) == 10, "test frames distinct", "duplicates")
    ctx.frames = [{"data": p, "timestamp": host_frame(ctx, p)} for p in payloads]
    try:
        received = [wait(ctx.A, "broadcast:audio", what=f"(frame {i} of 10)")
                    for i in range(10)]
    except CheckFailed as exc:
        exc.got += f"; host broadcast:error {show(ctx.host.pending('broadcast:error'))}"
        raise
    check_audio_run("A", ctx.frames, received, "broadcast:audio")
    return "10 frames relayed to A in order, byte-exact, seq increasing"


def check_13_oversized_frame(ctx):
    big = bytes(range(256)) * 19 + bytes(136)  # 5000 bytes
    assert len(big) == 5000
    host_frame(ctx, big)
    wait(ctx.host, "broadcast:error", what="for a 5000-byte frame")
    barrier = frame_bytes(0x13, 0)
    host_frame(ctx, barrier)
    for who in (ctx.A, ctx.B):
        before, _ = take_until(who, "broadcast:audio", lambda d: d["data"] == barrier,
                               what="(the valid frame sent after the oversized one)")
        bad = [f for f in before if isinstance(f, dict) and len(f.get("data") or b"") > 4000]
        expect(not bad, f"{who.name} did not get the oversized frame", bad)
    return "5000-byte frame refused to host, not relayed"


def check_14_late_joiner_replay(ctx):
    c = ctx.C = ctx.peer("C")
    c.emit("room:join", {"roomId": ctx.room_id})
    joined = wait(c, "room:joined", joined_ok(ctx.room_id), full=True)
    j = joined.data
    expect(j.get("isLive") is True, "C's room:joined.isLive true", j)
    cfg = j.get("audioConfig") or {}
    expect(all(cfg.get(k) == v for k, v in AUDIO_CONFIG.items()),
           "C's room:joined.audioConfig as started", j)

    # Replayed frames: the 10 frames of check 12 must appear in order (others may surround them).
    matched, want, last_seq, first_n = [], 0, None, None
    deadline = time.monotonic() + TIMEOUT
    while want < len(ctx.frames):
        left = max(0.0, deadline - time.monotonic())
        got = wait(c, "broadcast:audio", full=True, timeout=left,
                   what=f"(replay; matched {want} of {len(ctx.frames)} recent frames)")
        first_n = got.n if first_n is None else first_n
        seq = got.data.get("seq") if isinstance(got.data, dict) else None
        expect(is_num(seq) and (last_seq is None or seq > last_seq),
               "C: replayed seq strictly increasing", f"seq {seq} after {last_seq}")
        last_seq = seq
        if got.data.get("data") == ctx.frames[want]["data"]:
            matched.append(got.data)
            want += 1
    expect(first_n > joined.n, "replayed audio after room:joined",
           f"first audio #{first_n}, room:joined #{joined.n}")
    with c.cond:
        hist = list(c.queues["chat:history"])
    expect(hist and joined.n < hist[0].n < first_n,
           "chat:history between room:joined and replayed audio",
           [(g.n, g.event) for g in hist])
    check_audio_run("C", ctx.frames, matched, "replayed broadcast:audio")
    return "late joiner C got isLive true and the recent frames replayed"


def check_15_reconnect_identity(ctx):
    old = ctx.A
    before = dict(old.session)
    old.close()
    a = ctx.A = ctx.peer("A", auth={"token": before["token"]})
    s = a.session
    expect(s.get("userId") == before["userId"], "reconnected session.userId unchanged",
           f"{s.get('userId')!r} (was {before['userId']!r})")
    expect(s.get("username") == before["username"], "reconnected session.username unchanged",
           f"{s.get('username')!r} (was {before['username']!r})")
    # Rejoin so A keeps following the room for the checks below.
    a.emit("room:join", {"roomId": ctx.room_id})
    wait(a, "room:joined", joined_ok(ctx.room_id), what="after reconnecting")
    return f"A reconnected with its token as {s['username']}"


def check_16_rename(ctx):
    a = ctx.A
    uid = a.user_id
    a.emit("user:rename", {"username": "Alice"})
    s = wait(a, "session", what="after user:rename")
    expect(s.get("username") == "Alice", "session.username after rename", s.get("username"))
    expect(s.get("userId") == uid, "session.userId unchanged by rename", s.get("userId"))
    a.session = s
    # The room hears it too (the renamer included), so participant lists show the new name.
    for peer in (a, ctx.host):
        r = wait(peer, "user:renamed", lambda d: d.get("userId") == uid,
                 what=f"{peer.name}: user:renamed after A's rename")
        expect(r.get("username") == "Alice" and r.get("roomId") == ctx.room_id,
               f"{peer.name}'s user:renamed names Alice in the room", r)
    return "user:rename -> session with username Alice; the room gets user:renamed"


def check_17_host_token(ctx):
    h, h2 = ctx.host, ctx.peer("H2")
    ctx.H2 = h2
    h2.emit("room:join", {"roomId": ctx.room_id, "hostToken": ctx.room["hostToken"]})
    j = wait(h2, "room:joined", joined_ok(ctx.room_id), what="with hostToken")
    expect(j.get("isHost") is True, "H2's room:joined.isHost true (joined with hostToken)", j)

    # H2 took the host role: the previous host identity may no longer broadcast.
    drain(h, "broadcast:error")
    stale = frame_bytes(0x17, 0)
    host_frame(ctx, stale, peer=h)
    err = wait(h, "broadcast:error",
               what="for the previous host's broadcast:audio after H2 joined with hostToken")
    expect(isinstance(err, dict) and "only the host" in str(err.get("message")),
           "previous host's frame refused with 'only the host may broadcast'", err)
    # H2's frame is sent after the refusal was seen, so a relayed stale frame precedes it.
    barrier = frame_bytes(0x17, 1)
    host_frame(ctx, barrier, peer=h2)
    for who in (ctx.A, ctx.B, ctx.C):
        before, _ = take_until(who, "broadcast:audio", lambda d: d["data"] == barrier,
                               what="(H2's frame sent after the previous host's)")
        bad = [f for f in before if isinstance(f, dict) and f.get("data") == stale]
        expect(not bad, f"{who.name} did not get the previous host's frame", bad)

    h2.emit("broadcast:stop", {"roomId": ctx.room_id})
    for who in (ctx.A, ctx.B, ctx.C):
        wait(who, "broadcast:stopped", joined_ok(ctx.room_id), what="after H2's broadcast:stop")
    still_usable(h2, "after its broadcast:stop")  # barrier for the check below
    expect(not h2.pending("broadcast:error"), "H2 got no broadcast:error",
           h2.pending("broadcast:error"))
    return ("H2 joined with hostToken as host; the previous host's frame refused "
            f"({err['message']!r}); H2's frame relayed; H2 stopped the broadcast")


def check_18_rest_delete(ctx):
    path = f"/api/rooms/{ctx.room_id}"
    status, _, text = http(ctx, "DELETE", path)
    expect(status == 403, f"DELETE {path} without X-Host-Token -> 403", f"{status} {text[:200]}")
    status, _, text = http(ctx, "DELETE", path, headers={"X-Host-Token": "wrong-token"})
    expect(status == 403, f"DELETE {path} with a wrong X-Host-Token -> 403",
           f"{status} {text[:200]}")
    status, _, text = http(ctx, "DELETE", path, headers={"X-Host-Token": ctx.room["hostToken"]})
    expect(status == 204, f"DELETE {path} with X-Host-Token -> 204", f"{status} {text[:200]}")
    for who in (ctx.host, ctx.A, ctx.B, ctx.C, ctx.H2):
        d = wait(who, "room:closed", joined_ok(ctx.room_id), what="after DELETE")
        expect(d.get("reason") == "closed by host",
               f"{who.name}'s room:closed.reason == 'closed by host'", d)
    status, _, text = http(ctx, "GET", path)
    expect(status == 404, f"GET {path} after delete -> 404", f"{status} {text[:200]}")
    status, rooms, text = http(ctx, "GET", "/api/rooms")
    expect(status == 200 and isinstance(rooms, list)
           and not any(isinstance(r, dict) and r.get("roomId") == ctx.room_id for r in rooms),
           "deleted room no longer in GET /api/rooms", text[:300])
    return "DELETE needs the host token; room closed for everyone"


def check_19_password(ctx):
    status, r, text = http(ctx, "POST", "/api/rooms", {"roomName": "Locked", "password": "pw1"})
    expect(status == 201, "POST /api/rooms -> 201", f"{status} {text[:200]}")
    expect(isinstance(r, dict) and isinstance(r.get("roomId"), str)
           and isinstance(r.get("hostToken"), str) and r.get("roomName") == "Locked",
           "POST /api/rooms answer {roomId, roomName, hostId, hostToken, createdAt}", r)
    rid = r["roomId"]
    ctx.cleanups.append(lambda: http(ctx, "DELETE", f"/api/rooms/{rid}",
                                     headers={"X-Host-Token": r["hostToken"]}))
    status, room, text = http(ctx, "GET", f"/api/rooms/{rid}")
    expect(status == 200 and isinstance(room, dict) and room.get("hasPassword") is True,
           "GET /api/rooms/{id} hasPassword true", f"{status} {text[:200]}")

    d = ctx.peer("D")
    for attempt, extra in (("without password", {}), ("with a wrong password", {"password": "x"})):
        d.emit("room:join", {"roomId": rid, **extra})
        wait(d, "error", lambda e: e["code"] == "bad_password",
             what=f"with code bad_password (join {attempt})")
        still_usable(d, f"after the join {attempt}")  # barrier: a room:joined would be queued
        expect(not d.pending("room:joined"), f"no room:joined {attempt}", d.pending("room:joined"))
    d.emit("room:join", {"roomId": rid, "password": "pw1"})
    wait(d, "room:joined", joined_ok(rid), what="with the right password")
    return "password room: bad_password without/with wrong password, joined with it"


def check_20_join_at_once(ctx):
    # A client may emit the moment it is connected, before the `session` event: the server
    # must already listen (its handlers are registered before the next packet is read).
    status, r, text = http(ctx, "POST", "/api/rooms", {"roomName": "At once"})
    expect(status == 201, "POST /api/rooms -> 201", f"{status} {text[:200]}")
    rid = r["roomId"]
    ctx.cleanups.append(lambda: http(ctx, "DELETE", f"/api/rooms/{rid}",
                                     headers={"X-Host-Token": r["hostToken"]}))
    eager = []
    for i in range(12):
        p = Peer(f"eager{i}", ctx.base)
        ctx.peers.append(p)
        p.sio.connect(ctx.base, transports=["websocket"], wait_timeout=TIMEOUT)
        p.emit("room:join", {"roomId": rid})
        eager.append(p)
    for p in eager:
        wait(p, "room:joined", joined_ok(rid), what="for a room:join sent right after connecting")
    return f"{len(eager)} clients that emitted room:join at once all joined"


CHECKS = [
    check_01_host_session,
    check_02_room_create,
    check_03_rest_listing,
    check_04_guest_joins,
    check_05_unknown_room,
    check_06_chat,
    check_07_chat_history,
    check_08_chat_rate_limit,
    check_09_chat_too_long,
    check_10_time,
    check_11_broadcast_start,
    check_12_audio,
    check_13_oversized_frame,
    check_14_late_joiner_replay,
    check_15_reconnect_identity,
    check_16_rename,
    check_17_host_token,
    check_18_rest_delete,
    check_19_password,
    check_20_join_at_once,
]


if __name__ == "__main__":
    sys.exit(run(sys.argv, CHECKS))
