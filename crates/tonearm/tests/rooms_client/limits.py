#!/usr/bin/env python3
"""Listening-room limits and robustness checks (docs/rooms.md), run against a real server.

    python3 limits.py BASE_URL        e.g. python3 limits.py http://127.0.0.1:4567

The server must run with
    TONEARM_ROOMS__MAX_PARTICIPANTS=12 TONEARM_ROOMS__IDLE_CLOSE_SECS=2 TONEARM_ROOMS__CHAT_PER_5S=5

Same conventions as flow.py (both use client.py for the client, waiting, REST, clock, frame
pacing and the runner): one "ok - ..." line per passing check; on the first failure
"FAIL - <what>, got <value>" and exit 1; exit 0 only if every check passed. Every expectation waits on an event (or polls REST) with a deadline; "X is
not relayed" checks use a barrier (a later, valid message whose arrival proves the earlier one
would have arrived), because events on one Socket.IO connection arrive in order. The only
sleeps pace audio frames at 20 ms, like a live host, and space REST polls 200 ms apart.

Check 6 bursts on the low layer and check 7 ends with a payload-less time:ping: see there.
Check 10 sends one Socket.IO message over the 256 KiB limit (in a room of its own).
"""

import sys
import time

from client import (
    AUDIO_CONFIG,
    FRAME_MS,
    expect,
    drain,
    frame_bytes,
    frame_data,
    host_frame,
    http,
    is_num,
    joined_ok,
    run,
    show,
    still_usable,
    take_all,
    take_until,
    wait,
    wait_any,
)

MAX_PARTICIPANTS = 12  # TONEARM_ROOMS__MAX_PARTICIPANTS
IDLE_CLOSE_SECS = 2  # TONEARM_ROOMS__IDLE_CLOSE_SECS
GUESTS = MAX_PARTICIPANTS - 1  # guests that fill the room next to the host
SMALL_BATCH = 8  # docs: a batch with more changes than this is one participants:update
MAX_FRAMES_PER_SEC = 100  # docs: at most 100 frames per layer in each one-second window
MAX_MESSAGE_BYTES = 256 * 1024  # docs: a Socket.IO message may be at most 256 KiB
STATS_FRAME_BYTES = 200
STATS_KBPS = STATS_FRAME_BYTES * (1000 // FRAME_MS) * 8 / 1000  # 80 kbps
STATS_SEND_SECS = 2.5
IDLE_DEADLINE = 10.0  # seconds for an idle room to disappear
POLL = 0.2  # seconds between REST polls


# --------------------------------------------------------------------------- helpers

def in_room(ctx):
    """The guests in the main room now (the host excluded)."""
    return list(ctx.guests)


# --------------------------------------------------------------------------- checks

def check_01_batching(ctx):
    # Everyone connects first, so the joins themselves can be sent back to back.
    ctx.host = ctx.peer("host")
    ctx.guests = [ctx.peer(f"G{i:02d}") for i in range(1, GUESTS + 1)]
    h = ctx.host
    h.emit("room:create", {"roomName": "Limits room"})
    ctx.room = wait(h, "room:created")
    wait(h, "room:joined", joined_ok(ctx.room_id), what="after room:create")
    # Docs: user:joined goes to everyone in the room, the joiner included. Changes are
    # announced on a 250 ms tick, so sending the joins right after the host's own announcement
    # keeps all 11 in one batch.
    me = wait(h, "user:joined", lambda d: d["userId"] == h.user_id,
              what="announcing the host to itself after room:create")
    expect(me.get("isHost") is True and me.get("participantCount") == 1
           and me.get("username") == h.username,
           "host's own user:joined {username, isHost: true, participantCount: 1}", me)
    drain(h, "user:joined", "participants:update")

    t0 = time.monotonic()
    for g in ctx.guests:
        g.emit("room:join", {"roomId": ctx.room_id})
    spread_ms = (time.monotonic() - t0) * 1000
    for g in ctx.guests:
        wait(g, "room:joined", joined_ok(ctx.room_id), what=f"for room {ctx.room_id}")

    upd = wait(h, "participants:update",
               lambda d: d["participantCount"] == MAX_PARTICIPANTS,
               what=f"with participantCount {MAX_PARTICIPANTS} (after {GUESTS} joins "
                    f"sent within {spread_ms:.0f} ms)")
    joined = upd.get("joined")
    expect(isinstance(joined, list) and len(joined) > 0,
           "participants:update.joined is a non-empty list", upd)
    expect(isinstance(upd.get("left"), list), "participants:update.left is a list", upd)
    guest_ids = {g.user_id for g in ctx.guests}
    ids = {p.get("userId") for p in joined if isinstance(p, dict)}
    expect(len(ids) == len(joined) and ids <= guest_ids,
           "participants:update.joined entries are {userId,…} of the joining guests", joined)
    expect(all(p.get("isHost") is False and isinstance(p.get("username"), str) for p in joined),
           "participants:update.joined entries have username and isHost false", joined)
    expect(len(joined) + len(upd["left"]) > SMALL_BATCH,
           f"participants:update carries more than {SMALL_BATCH} changes", upd)

    # Every guest announced exactly once, by a batch or singly. The update with the full
    # count has arrived, so every earlier announcement has too (check 2 looks for late ones).
    singles = [d for d in h.pending("user:joined") if d.get("userId") in guest_ids]
    announcements = [p.get("userId") for p in joined] + [d["userId"] for d in singles]
    for other in h.pending("participants:update"):
        announcements += [p.get("userId") for p in other.get("joined") or []
                          if isinstance(p, dict)]
    twice = sorted({u for u in announcements if announcements.count(u) > 1})
    expect(not twice, "no guest announced to the host twice", f"announced twice: {twice}")
    missing = sorted(guest_ids - set(announcements))
    expect(not missing, "every guest announced to the host", f"missing {missing}")
    drain(h, "user:joined", "participants:update")
    ctx.batch_ids = guest_ids
    return (f"{GUESTS} joins -> participants:update with {len(joined)} joined, "
            f"participantCount {MAX_PARTICIPANTS}; {len(singles)} user:joined; "
            "host announced to itself")


def check_02_room_full(ctx):
    rid = ctx.room_id
    x = ctx.peer("G13")
    x.emit("room:join", {"roomId": rid})
    full = wait(x, "room:full", what="for the 13th participant")
    expect(isinstance(full, dict) and full.get("roomId") == rid
           and full.get("maxParticipants") == MAX_PARTICIPANTS,
           f"room:full {{roomId: {rid!r}, maxParticipants: {MAX_PARTICIPANTS}}}", full)
    still_usable(x, "after room:full")
    expect(not x.pending("room:joined"), "no room:joined for the 13th", x.pending("room:joined"))

    leaver = ctx.guests.pop()
    leaver.emit("room:leave", {"roomId": rid})
    left = wait(leaver, "room:left", what="after room:leave")
    expect(isinstance(left, dict) and left.get("roomId") == rid, "room:left.roomId", left)
    # The leave is announced on a later tick than check 1's joins: any late (duplicate) join
    # announcement of those guests would be queued at the host before it.
    h = ctx.host
    gone = wait(h, "user:left", lambda d: d["userId"] == leaver.user_id, full=True,
                what=f"for {leaver.name} after its room:leave")
    with h.cond:
        late = [g.data for e in ("user:joined", "participants:update") for g in h.queues[e]
                if g.n < gone.n]
    dupes = [d for d in late if d.get("userId") in ctx.batch_ids
             or any(isinstance(p, dict) and p.get("userId") in ctx.batch_ids
                    for p in d.get("joined") or [])]
    expect(not dupes, "no late second announcement of check 1's guests", dupes)

    x.emit("room:join", {"roomId": rid})
    got = wait_any(x, {"room:joined": joined_ok(rid), "room:full": None},
                   what="after a place was freed")
    expect(got.event == "room:joined", "13th joins once a guest has left", got.data)
    ctx.guests.append(x)

    status, room, text = http(ctx, "GET", f"/api/rooms/{rid}")
    expect(status == 200 and isinstance(room, dict)
           and room.get("guestCount") == GUESTS
           and len(room.get("participants") or []) == MAX_PARTICIPANTS,
           f"GET /api/rooms/{{id}}: guestCount {GUESTS}, {MAX_PARTICIPANTS} participants",
           f"{status} {show(room) if room is not None else text[:200]}")
    return "13th got room:full; after a room:leave it joined"


def check_03_host_only(ctx):
    h, guests = ctx.host, in_room(ctx)
    ctx.sync_clock(ctx.host)
    h.emit("broadcast:start", {"roomId": ctx.room_id, "audioConfig": AUDIO_CONFIG})
    for g in guests:
        wait(g, "broadcast:started", joined_ok(ctx.room_id), what="after the host's start")

    a = guests[0]
    rogue = frame_bytes(0xEE, 0)
    a.emit("broadcast:audio", {"roomId": ctx.room_id, "data": rogue,
                               "timestamp": int(ctx.server_now()), "duration": FRAME_MS,
                               "quality": "high"})
    err = wait(a, "broadcast:error", what="after a guest's broadcast:audio")
    expect(isinstance(err, dict) and isinstance(err.get("message"), str),
           "broadcast:error {message}", err)

    barrier = frame_bytes(0xEF, 0)
    host_frame(ctx, barrier)
    for g in guests:
        before, _ = take_until(g, "broadcast:audio", lambda d: d["data"] == barrier,
                               what="(the host's frame sent after the guest's)")
        bad = [f for f in before if frame_data(f) == rogue]
        expect(not bad, f"{g.name} did not get the guest's frame", bad)
    expect(not h.pending("broadcast:error"), "host's frame accepted",
           h.pending("broadcast:error"))
    return f"guest's broadcast:audio -> broadcast:error ({err['message']!r}), not relayed"


def check_04_layers(ctx):
    a, b = ctx.guests[0], ctx.guests[1]
    a.emit("quality:request", {"quality": "low"})
    qc = wait(a, "quality:changed", what="after quality:request low")
    expect(isinstance(qc, dict) and qc.get("quality") == "low", "quality:changed {quality: low}",
           qc)
    for g in in_room(ctx):
        drain(g, "broadcast:audio")

    n = 11
    high = [frame_bytes(0x48, i) for i in range(n)]
    low = [frame_bytes(0x4C, i) for i in range(n)]
    expect(len(set(high + low)) == 2 * n, "test frames distinct", "duplicates")
    for i in range(n):
        host_frame(ctx, high[i], "high")
        host_frame(ctx, low[i], "low")

    # A: everything up to the last low frame (sent after every high frame) must be low.
    before, last = take_until(a, "broadcast:audio", lambda d: d["data"] == low[-1],
                              what="(A: the last low frame)")
    got = before + [last]
    wrong = [f for f in got if frame_data(f) not in low or f.get("quality") != "low"]
    expect(not wrong, "A (low) received only low frames", wrong)
    expect([frame_data(f) for f in got] == low, f"A received all {n} low frames in order",
           f"{len(got)} frames")
    # B: the high run ends with high[-1], sent after every low frame but the last one.
    before, last = take_until(b, "broadcast:audio", lambda d: d["data"] == high[-1],
                              what="(B: the last high frame)")
    got = before + [last]
    wrong = [f for f in got if frame_data(f) not in high or f.get("quality") != "high"]
    expect(not wrong, "B (default) received only high frames", wrong)
    expect([frame_data(f) for f in got] == high, f"B received all {n} high frames in order",
           f"{len(got)} frames")
    expect(not ctx.host.pending("broadcast:error"), "host got no broadcast:error",
           ctx.host.pending("broadcast:error"))
    # A's last low frame came after every high frame: none may be queued behind it either.
    stray = [f for f in a.pending("broadcast:audio") if frame_data(f) in high]
    expect(not stray, "A got no high frame at all", stray)
    return f"A (low) got only the {n} low frames, B (default) only the {n} high frames"


def check_05_stats(ctx):
    guests = in_room(ctx)
    b = guests[1]
    for g in guests:
        drain(g, "broadcast:stats", "broadcast:audio")
    b.emit("stats:report", {"bufferLevel": 50})

    frames = int(STATS_SEND_SECS * 1000 / FRAME_MS)
    start = time.monotonic()
    for i in range(frames):
        host_frame(ctx, frame_bytes(0x53, i), "high")
    end = time.monotonic()
    expect(not ctx.host.pending("broadcast:error"), "host's paced frames all accepted",
           ctx.host.pending("broadcast:error"))

    got = {g.name: take_all(g, "broadcast:stats") for g in guests}
    for g in guests:
        expect(got[g.name], f"{g.name} received broadcast:stats while the host was live",
               "none")
    # broadcast:stats measures the last second: an event whose whole second fell inside the
    # sending (arrived >= 1 s after the first frame, by the last one) sees the full rate.
    stats = got[b.name]
    full = [s for s in stats if start + 1.05 <= s.t <= end + 0.05]
    expect(full, "a broadcast:stats whose second lies inside the sending",
           [(round(s.t - start, 2), show(s.data)) for s in stats])
    lo, hi = STATS_KBPS * 0.8, STATS_KBPS * 1.2
    for s in full:
        d = s.data
        expect(isinstance(d, dict) and is_num(d.get("bitrate")) and lo <= d["bitrate"] <= hi,
               f"broadcast:stats.bitrate within 20% of {STATS_KBPS:g} kbps "
               f"(event {s.t - start:.2f} s into the sending)", d)
    for name, items in got.items():
        for s in items:
            d = s.data
            expect(isinstance(d, dict) and d.get("guestCount") == len(guests),
                   f"{name}'s broadcast:stats.guestCount == {len(guests)}", d)
            expect(is_num(d.get("latency")) and d["latency"] >= 0,
                   f"{name}'s broadcast:stats.latency numeric >= 0", d)
            expect(is_num(d.get("duration")) and d["duration"] >= 0,
                   f"{name}'s broadcast:stats.duration numeric >= 0", d)
            expect(is_num(d.get("bufferLevel")), f"{name}'s broadcast:stats.bufferLevel numeric",
                   d)

    reflected = [s.data for s in stats if s.data.get("bufferLevel", 0) > 0]
    if not reflected:
        reflected = [wait(b, "broadcast:stats", lambda d: d["bufferLevel"] > 0,
                          what="with bufferLevel > 0 after stats:report {bufferLevel: 50}")]

    status, rest, text = http(ctx, "GET", f"/api/rooms/{ctx.room_id}/stats")
    expect(status == 200 and isinstance(rest, dict), "GET /api/rooms/{id}/stats -> 200 object",
           f"{status} {text[:200]}")
    keys = ("bitrate", "latency", "guestCount", "duration", "bufferLevel")
    expect(all(is_num(rest.get(k)) for k in keys), f"GET .../stats has numeric {keys}", rest)
    expect(rest["guestCount"] == len(guests), f"GET .../stats guestCount == {len(guests)}", rest)
    f0 = full[0].data
    return (f"bitrate {f0['bitrate']:.1f} kbps, latency {f0['latency']:.1f} ms, guestCount "
            f"{f0['guestCount']}; bufferLevel {reflected[0]['bufferLevel']:g} after "
            f"stats:report; REST stats {show(rest)}")


def check_06_frame_rate_limit(ctx):
    h = ctx.host
    drain(h, "broadcast:error")
    burst = 150
    # The limit is per layer. The low layer has been quiet since check 4 (> 2.5 s), so the
    # burst meets a fresh one-second window: 100 frames fit, the rest must be refused. (On the
    # high layer, just paced at 50/s, a window could end mid-burst and admit nearly all 150.)
    for i in range(burst):
        host_frame(ctx, frame_bytes(0x46, i, size=40), "low", pace=False)
    # broadcast:audio is handled in order: an invalid frame after the burst gets the last
    # answer, so every refusal of the burst is queued by then.
    host_frame(ctx, frame_bytes(0x47, 0, size=40), "low", pace=False, duration=500)
    refusals, barrier = take_until(h, "broadcast:error",
                                   lambda d: "too many" not in d["message"].lower(),
                                   what="(the bad-duration frame after the burst)")
    want = burst - MAX_FRAMES_PER_SEC
    expect(len(refusals) == want,
           f"exactly {want} of {burst} frames refused with 'too many frames' (a fresh window "
           f"admits {MAX_FRAMES_PER_SEC})", f"{len(refusals)} refusals")
    expect(all("too many frames" in d["message"].lower() for d in refusals),
           "the refusals say too many frames", refusals[:3])
    # The barrier frame is refused for its duration (checked before the rate), not for rate.
    expect("duration" in barrier["message"].lower(),
           "the 500 ms frame after the burst refused for its duration", barrier)
    still_usable(h, "after the burst")
    expect(not h.pending("broadcast:error"), "no further broadcast:error after the barrier",
           h.pending("broadcast:error"))
    for g in in_room(ctx):
        drain(g, "broadcast:audio")
    return (f"{burst} frames at once -> {len(refusals)} x broadcast:error "
            f"({refusals[0]['message']!r}); connection usable")


def check_07_malformed(ctx):
    a, h = ctx.guests[0], ctx.host
    name_before = a.session["username"]
    answers_to = ("error", "broadcast:error", "time:pong")
    # (peer, event, payload, the only answer expected, its error code)
    cases = [
        (a, "chat:message", 42, "error", "bad_request"),
        (a, "room:join", "not-an-object", "error", "bad_request"),
        (h, "broadcast:audio", {"roomId": ctx.room_id, "data": "AAECAwQ=",
                                "timestamp": int(ctx.server_now()), "duration": FRAME_MS,
                                "quality": "high"}, "broadcast:error", None),
        (a, "user:rename", {"username": ""}, "error", "bad_name"),
        (a, "time:ping", None, "time:pong", None),  # no payload at all
    ]
    answers = []
    for peer, event, payload, expected, code in cases:
        what = f"{event} with payload {payload!r}"
        drain(peer, *answers_to, "session")
        peer.emit(event, payload)
        got = wait_any(peer, {e: None for e in answers_to}, what=f"answering {what}")
        d = got.data
        expect(got.event == expected, f"{what} answered by {expected}", f"{got.event} {show(d)}")
        if expected == "error":
            expect(isinstance(d, dict) and d.get("code") == code
                   and isinstance(d.get("message"), str),
                   f"{what}: error {{code: {code!r}, message}}", d)
            answers.append(f"{event}: error {code}")
        elif expected == "broadcast:error":
            expect(isinstance(d, dict) and isinstance(d.get("message"), str),
                   f"{what}: broadcast:error {{message}}", d)
            answers.append(f"{event}: broadcast:error")
        else:  # docs: a payload-less time:ping gets clientTime null
            expect(isinstance(d, dict) and "clientTime" in d and d["clientTime"] is None
                   and is_num(d.get("serverReceive")) and is_num(d.get("serverSend")),
                   f"{what}: time:pong {{clientTime: null, serverReceive, serverSend}}", d)
            answers.append(f"{event}: time:pong clientTime null")
        still_usable(peer, f"after {what}")  # barrier: any second answer is queued by now
        extra = {e: peer.pending(e) for e in answers_to if peer.pending(e)}
        expect(not extra, f"{what}: no answer but the one {expected}", extra)
    expect(not a.pending("session"), "the empty name did not rename A", a.pending("session"))
    expect(a.session["username"] == name_before, "A's name unchanged", a.session)
    # The string "data" must not have reached anyone as audio: a valid frame sent after it
    # is the barrier for the guests on its layer (all but A, which asked for low).
    barrier = frame_bytes(0x07, 0)
    host_frame(ctx, barrier, "high")
    for g in in_room(ctx):
        if g is not a:
            before, _ = take_until(g, "broadcast:audio", lambda f: f["data"] == barrier,
                                   what="(the valid frame sent after the string-data one)")
        else:
            before = a.pending("broadcast:audio")
        stray = [f for f in before if not isinstance(frame_data(f), bytes)]
        expect(not stray, f"{g.name} got no frame with string data", stray)
    return "; ".join(answers) + "; nothing else answered; still connected"


def check_08_idle_close(ctx):
    g = ctx.peer("idle-guest")
    status, r, text = http(ctx, "POST", "/api/rooms", {"roomName": "Idle room"})
    created = time.monotonic()
    expect(status == 201 and isinstance(r, dict) and isinstance(r.get("roomId"), str),
           "POST /api/rooms -> 201 {roomId, …}", f"{status} {text[:200]}")
    rid = r["roomId"]
    g.emit("room:join", {"roomId": rid})
    wait(g, "room:joined", joined_ok(rid), what="for the REST-made room")
    path = f"/api/rooms/{rid}"
    deadline = created + IDLE_DEADLINE
    seen_open = False
    while True:
        status, _, text = http(ctx, "GET", path)
        if status == 404:
            break
        expect(status == 200, f"GET {path} -> 200 or 404", f"{status} {text[:200]}")
        seen_open = True
        expect(time.monotonic() < deadline,
               f"room without a host gone (GET {path} -> 404) within {IDLE_DEADLINE:g} s",
               f"still {status} after {time.monotonic() - created:.1f} s")
        time.sleep(POLL)  # REST polling interval, bounded by the deadline above
    gone_after = time.monotonic() - created
    expect(seen_open, f"GET {path} -> 200 right after creating it", "404 at once")
    expect(gone_after >= IDLE_CLOSE_SECS - 0.5,
           f"room not closed before IDLE_CLOSE_SECS={IDLE_CLOSE_SECS}",
           f"gone after {gone_after:.2f} s")
    closed = wait(g, "room:closed", joined_ok(rid), what="for the idle room")
    expect(closed.get("reason") == "idle", "room:closed.reason == 'idle'", closed)
    return f"REST room gone after {gone_after:.1f} s; its guest got room:closed reason idle"


def check_09_host_disconnect(ctx):
    h, guests = ctx.host, in_room(ctx)
    hid = h.user_id
    for g in guests:
        drain(g, "user:left", "participants:update")
    h.close()
    for g in guests:
        d = wait(g, "user:left", lambda d: d["userId"] == hid,
                 what=f"for the host ({hid!r}) after it disconnected")
        expect(d.get("participantCount") == len(guests),
               f"{g.name}'s user:left.participantCount == {len(guests)}", d)
    return f"all {len(guests)} guests got user:left for the host"


def check_10_oversized_message(ctx):
    # A room of its own: the main room lost its host in check 9.
    h = ctx.peer("big-host")
    h.emit("room:create", {"roomName": "Big message room"})
    rid = wait(h, "room:created")["roomId"]
    wait(h, "room:joined", joined_ok(rid), what="after room:create")
    s, b = ctx.peer("big-sender"), ctx.peer("big-B")
    for p in (s, b):
        p.emit("room:join", {"roomId": rid})
        wait(p, "room:joined", joined_ok(rid), what=f"for room {rid}")

    message = "x" * 400_000  # one Socket.IO message of ~400 KB, over the 256 KiB limit
    s.emit("chat:message", {"roomId": rid, "message": message})
    got = wait_any(s, {"disconnect": None, "error": None},
                   what=f"(disconnect or refusal) after a {len(message) // 1000} KB "
                        f"chat:message (limit {MAX_MESSAGE_BYTES // 1024} KiB)")
    if got.event == "error":
        expect(isinstance(got.data, dict) and isinstance(got.data.get("code"), str),
               "the refusal is error {code, message}", got.data)
        outcome = f"refused with error {got.data['code']}"
        still_usable(s, "after its oversized message was refused")
    else:
        outcome = "sender disconnected"

    # Others are still served, and the message reached no one: B's marker is sent after the
    # sender's outcome was seen, so a relayed oversized message would be queued before it.
    for p in (h, b):
        still_usable(p, "after another client's oversized message")
    marker = f"marker after the oversized message {time.monotonic()}"
    b.emit("chat:message", {"roomId": rid, "message": marker})
    for p in (h, b):
        before, _ = take_until(p, "chat:message", lambda d: d["message"] == marker,
                               what="(B's marker sent after the oversized message)")
        bad = [m for m in before if isinstance(m, dict) and (
            m.get("userId") == s.user_id or len(m.get("message") or "") > 500)]
        expect(not bad, f"the oversized message not relayed to {p.name}", bad)
    return f"~400 KB message: {outcome}; the others' time:ping answered, nothing relayed"


CHECKS = [
    check_01_batching,
    check_02_room_full,
    check_03_host_only,
    check_04_layers,
    check_05_stats,
    check_06_frame_rate_limit,
    check_07_malformed,
    check_08_idle_close,
    check_09_host_disconnect,
    check_10_oversized_message,
]


if __name__ == "__main__":
    sys.exit(run(sys.argv, CHECKS))
