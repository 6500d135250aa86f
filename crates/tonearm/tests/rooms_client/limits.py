#!/usr/bin/env python3
"""Listening-room limits and robustness checks (docs/rooms.md), run against a real server.

    python3 limits.py BASE_URL        e.g. python3 limits.py http://127.0.0.1:4567

The server must run with
    TONEARM_ROOMS__MAX_PARTICIPANTS=12 TONEARM_ROOMS__IDLE_CLOSE_SECS=2 TONEARM_ROOMS__CHAT_PER_5S=5

Same conventions as flow.py (whose client classes and helpers this reuses): one "ok - ..." line
per passing check; on the first failure "FAIL - <what>, got <value>" and exit 1; exit 0 only if
every check passed. Every expectation waits on an event (or polls REST) with a deadline; "X is
not relayed" checks use a barrier (a later, valid message whose arrival proves the earlier one
would have arrived), because events on one Socket.IO connection arrive in order. The only
sleeps pace audio frames at 20 ms, like a live host, and space REST polls 200 ms apart.

Check 6 bursts on the low layer and check 7 ends with a payload-less time:ping: see there.
"""

import sys
import threading
import time

from flow import (
    TIMEOUT,
    AUDIO_CONFIG,
    CheckFailed,
    Ctx,
    expect,
    http,
    is_num,
    joined_ok,
    now_ms,
    show,
    take_until,
    wait,
    wait_any,
)

MAX_PARTICIPANTS = 12  # TONEARM_ROOMS__MAX_PARTICIPANTS
IDLE_CLOSE_SECS = 2  # TONEARM_ROOMS__IDLE_CLOSE_SECS
GUESTS = MAX_PARTICIPANTS - 1  # guests that fill the room next to the host
SMALL_BATCH = 8  # docs: a batch with more changes than this is one participants:update
FRAME_MS = 20
STATS_FRAME_BYTES = 200
STATS_KBPS = STATS_FRAME_BYTES * (1000 // FRAME_MS) * 8 / 1000  # 80 kbps
STATS_SEND_SECS = 2.5
IDLE_DEADLINE = 10.0  # seconds for an idle room to disappear
POLL = 0.2  # seconds between REST polls


# --------------------------------------------------------------------------- helpers

def take_all(peer, event):
    """Consume and return every queued `event` item (Got records: n, event, data, t)."""
    with peer.cond:
        items = list(peer.queues[event])
        peer.queues[event].clear()
    return items


def drain(peer, *events):
    for event in events:
        take_all(peer, event)


def still_usable(peer, what):
    """The connection is up and answers time:ping (waits for the matching time:pong)."""
    expect(peer.sio.connected and not peer.pending("disconnect"),
           f"{peer.name} still connected {what}", peer.pending("disconnect"))
    t = int(now_ms() * 1000)  # unique per call
    peer.emit("time:ping", {"clientTime": t})
    wait(peer, "time:pong", lambda d: d["clientTime"] == t, what=f"(usability ping {what})")


class Pacer:
    """Releases the caller once per `period` seconds on an absolute schedule (no drift), so
    a run of frames has the real-time rate of a live host."""

    def __init__(self, period=FRAME_MS / 1000.0):
        self.period = period
        self.next = None

    def wait(self):
        now = time.monotonic()
        if self.next is None or now - self.next > 0.1:  # first frame, or badly late: restart
            self.next = now
        elif self.next > now:
            time.sleep(self.next - now)
        self.next += self.period


def sync_clock(ctx, samples=5):
    """Estimates the server clock from a time:ping burst, keeping the lowest-RTT sample."""
    h = ctx.host
    best = None
    for i in range(samples):
        t0 = now_ms()
        sent = int(t0 * 1000) + i  # an integer: a float may not be echoed bit-exactly
        h.emit("time:ping", {"clientTime": sent})
        p = wait(h, "time:pong", lambda d, sent=sent: d["clientTime"] == sent,
                 what="(clock sync)")
        t1 = now_ms()
        expect(is_num(p.get("serverReceive")) and is_num(p.get("serverSend")),
               "time:pong serverReceive/serverSend numeric", p)
        rtt = t1 - t0
        offset = (p["serverReceive"] + p["serverSend"]) / 2 - (t0 + t1) / 2
        if best is None or rtt < best[0]:
            best = (rtt, offset)
    ctx.clock_offset = best[1]


def server_now(ctx):
    return now_ms() + ctx.clock_offset


def layer_bytes(tag, i, size=STATS_FRAME_BYTES):
    """Distinct test payload: a tag byte, the index, then a filler depending on both."""
    return bytes([tag, i & 0xFF]) + bytes((tag * 7 + i * 37 + j * 11) & 0xFF
                                          for j in range(size - 2))


def host_frame(ctx, data, quality="high", pace=True, duration=FRAME_MS):
    if pace:
        ctx.pacer.wait()
    ctx.host.emit("broadcast:audio", {"roomId": ctx.room_id, "data": data,
                                      "timestamp": int(server_now(ctx)),
                                      "duration": duration, "quality": quality})


def frame_data(d):
    return d.get("data") if isinstance(d, dict) else None


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
    # Changes are announced on a 250 ms tick. The host's own arrival is such an announcement:
    # sending the joins right after it keeps all 11 in one batch. (If this server does not
    # announce a joiner to itself, the joins go out unaligned.)
    aligned = True
    try:
        wait(h, "user:joined", lambda d: d["userId"] == h.user_id, timeout=1.0)
    except CheckFailed:
        aligned = False
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

    # Every guest announced once, by a batch or singly; fewer than 11 single user:joined.
    # The update with the full count has arrived, so every earlier announcement has too.
    singles = [d for d in h.pending("user:joined") if d.get("userId") in guest_ids]
    expect(len(singles) < GUESTS, f"host got fewer than {GUESTS} user:joined",
           f"{len(singles)} user:joined")
    announced = set(ids) | {d["userId"] for d in singles}
    for other in h.pending("participants:update"):
        announced |= {p.get("userId") for p in other.get("joined") or [] if isinstance(p, dict)}
    expect(announced == guest_ids, "every guest announced to the host",
           f"missing {sorted(guest_ids - announced)}")
    drain(h, "user:joined", "participants:update")
    return (f"{GUESTS} joins -> participants:update with {len(joined)} joined, "
            f"participantCount {MAX_PARTICIPANTS}; {len(singles)} user:joined"
            + ("" if aligned else " (joins not tick-aligned)"))


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
    sync_clock(ctx)
    h.emit("broadcast:start", {"roomId": ctx.room_id, "audioConfig": AUDIO_CONFIG})
    for g in guests:
        wait(g, "broadcast:started", joined_ok(ctx.room_id), what="after the host's start")

    a = guests[0]
    rogue = layer_bytes(0xEE, 0)
    a.emit("broadcast:audio", {"roomId": ctx.room_id, "data": rogue,
                               "timestamp": int(server_now(ctx)), "duration": FRAME_MS,
                               "quality": "high"})
    err = wait(a, "broadcast:error", what="after a guest's broadcast:audio")
    expect(isinstance(err, dict) and isinstance(err.get("message"), str),
           "broadcast:error {message}", err)

    barrier = layer_bytes(0xEF, 0)
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
    high = [layer_bytes(0x48, i) for i in range(n)]
    low = [layer_bytes(0x4C, i) for i in range(n)]
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
    a, b = guests[0], guests[1]
    for g in guests:
        drain(g, "broadcast:stats", "broadcast:audio")
    b.emit("stats:report", {"bufferLevel": 50})

    frames = int(STATS_SEND_SECS * 1000 / FRAME_MS)
    start = time.monotonic()
    for i in range(frames):
        host_frame(ctx, layer_bytes(0x53, i), "high")
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
        host_frame(ctx, layer_bytes(0x46, i, size=40), "low", pace=False)
    # broadcast:audio is handled in order: an invalid frame after the burst gets the last
    # answer, so every refusal of the burst is queued by then.
    host_frame(ctx, layer_bytes(0x46, 0xFF, size=40), "low", pace=False, duration=500)
    refusals, barrier = take_until(h, "broadcast:error",
                                   lambda d: "too many" not in d["message"].lower(),
                                   what="(the bad-duration frame after the burst)")
    expect(refusals, f"host got broadcast:error mentioning too many frames for {burst} frames",
           f"only {show(barrier)}")
    expect(all("frame" in d["message"].lower() for d in refusals),
           "the refusals mention frames", refusals[:3])
    still_usable(h, "after the burst")
    for g in in_room(ctx):
        drain(g, "broadcast:audio")
    return (f"{burst} frames at once -> {len(refusals)} x broadcast:error "
            f"({refusals[0]['message']!r}); connection usable")


def check_07_malformed(ctx):
    a, h = ctx.guests[0], ctx.host
    name_before = a.session["username"]
    cases = [
        (a, "chat:message", 42, ("error",)),
        (a, "room:join", "not-an-object", ("error",)),
        (h, "broadcast:audio", {"roomId": ctx.room_id, "data": "AAECAwQ=",
                                "timestamp": int(server_now(ctx)), "duration": FRAME_MS,
                                "quality": "high"}, ("broadcast:error", "error")),
        (a, "user:rename", {"username": ""}, ("error",)),
        (a, "time:ping", None, ("time:pong", "error")),  # no payload at all
    ]
    answers = []
    for peer, event, payload, expected in cases:
        what = f"{event} with payload {payload!r}"
        drain(peer, "error", "broadcast:error", "time:pong", "session")
        peer.emit(event, payload)
        got = wait_any(peer, {e: None for e in expected}, what=f"answering {what}")
        d = got.data
        if got.event == "error":
            expect(isinstance(d, dict) and isinstance(d.get("code"), str)
                   and isinstance(d.get("message"), str), f"{what}: error {{code, message}}", d)
            answers.append(f"{event}: error {d['code']}")
        elif got.event == "broadcast:error":
            expect(isinstance(d, dict) and isinstance(d.get("message"), str),
                   f"{what}: broadcast:error {{message}}", d)
            answers.append(f"{event}: broadcast:error")
        else:
            answers.append(f"{event}: {got.event}")
        still_usable(peer, f"after {what}")
    expect(not a.pending("session"), "the empty name did not rename A", a.pending("session"))
    expect(a.session["username"] == name_before, "A's name unchanged", a.session)
    # The string "data" must not have reached anyone as audio.
    for g in in_room(ctx):
        stray = [f for f in g.pending("broadcast:audio") if isinstance(frame_data(f), str)]
        expect(not stray, f"{g.name} got no frame with string data", stray)
    return "; ".join(answers) + "; still connected"


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
]


def main(argv):
    if len(argv) != 2 or not argv[1].startswith(("http://", "https://")):
        print(f"usage: {argv[0]} BASE_URL   (e.g. http://127.0.0.1:4567)", file=sys.stderr)
        return 2
    ctx = Ctx(argv[1].rstrip("/"))
    ctx.guests = []
    ctx.clock_offset = 0.0
    ctx.pacer = Pacer()
    code = 0
    try:
        for check in CHECKS:
            label = check.__name__.removeprefix("check_")
            try:
                detail = check(ctx)
            except CheckFailed as exc:
                print(f"FAIL - [{label}] {exc.what}, got {exc.got}", flush=True)
                code = 1
                break
            except Exception as exc:  # a bug or an unexpected payload shape
                print(f"FAIL - [{label}] unexpected {type(exc).__name__}, got {exc!r}",
                      flush=True)
                code = 1
                break
            print(f"ok - [{label}] {detail}", flush=True)
    finally:
        # Close concurrently: a websocket close can wait a few seconds for the server's reply.
        closers = [threading.Thread(target=p.close, daemon=True) for p in ctx.peers]
        for t in closers:
            t.start()
        for t in closers:
            t.join(TIMEOUT)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
