#!/usr/bin/env python3
"""Listening-room protocol conformance flow (docs/rooms.md), run against a real server.

    python3 flow.py BASE_URL          e.g. python3 flow.py http://127.0.0.1:4567

Uses the stock python-socketio sync client (websocket transport only) and urllib for REST.
Prints "ok - ..." for every passing check; on the first failure prints
"FAIL - <what>, got <value>" and exits 1. Exits 0 only if every check passed.

Nothing here sleeps and hopes: every expectation waits on a condition with a timeout, and
"X must not be broadcast" checks use a barrier (a later, valid message on the same
connection) because events on one Socket.IO connection arrive in order.
"""

import collections
import itertools
import json
import re
import sys
import threading
import time
import urllib.error
import urllib.request

import engineio
import socketio

TIMEOUT = 5.0  # seconds, for every wait

# Every server -> client event named in docs/rooms.md.
SERVER_EVENTS = [
    "session",
    "room:created", "room:joined", "room:left", "room:closed",
    "room:notfound", "room:full",
    "user:joined", "user:left", "participants:update", "participants:list",
    "chat:message", "chat:history",
    "broadcast:started", "broadcast:stopped", "broadcast:audio",
    "broadcast:error", "broadcast:stats",
    "quality:changed", "time:pong",
    "error",
]

AUDIO_CONFIG = {"sampleRate": 48000, "channels": 2, "codec": "opus", "bitrate": 128000}
ROOM_NAME = "Flow <b>room</b>"
CHAT_SENT = "  hi <script>x</script>\u0007 "
CHAT_EXPECTED = "hi <script>x</script>"


# --------------------------------------------------------------------------- failures

class CheckFailed(Exception):
    def __init__(self, what, got):
        super().__init__(what)
        self.what = what
        self.got = got


def show(value, limit=300):
    """Short printable form of a received value (bytes summarised)."""
    def squash(v):
        if isinstance(v, (bytes, bytearray)):
            return f"<{len(v)} bytes>"
        if isinstance(v, dict):
            return {k: squash(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [squash(x) for x in v]
        return v
    text = repr(squash(value))
    return text if len(text) <= limit else text[:limit] + "..."


def expect(cond, what, got):
    if not cond:
        raise CheckFailed(what, show(got))


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def now_ms():
    return time.time() * 1000.0


# --------------------------------------------------------------------------- client

class _OrderedEngineIOClient(engineio.Client):
    """engine.io client that hands received messages to socket.io one at a time, in order.

    The stock sync client dispatches every engine.io message on a fresh thread, so two events
    (or an event and its binary attachment) can reach the handlers out of order. The protocol
    checks below depend on arrival order (seq order, room:joined before the audio replay), so
    messages go through one FIFO dispatcher thread instead. Nothing else changes.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._inbox = collections.deque()
        self._inbox_cond = threading.Condition()
        threading.Thread(target=self._dispatch_loop, daemon=True, name="eio-dispatch").start()

    def _dispatch_loop(self):
        while True:
            with self._inbox_cond:
                while not self._inbox:
                    self._inbox_cond.wait()
                args = self._inbox.popleft()
            engineio.Client._trigger_event(self, "message", *args, run_async=False)

    def _trigger_event(self, event, *args, **kwargs):
        if event == "message" and kwargs.get("run_async"):
            with self._inbox_cond:
                self._inbox.append(args)
                self._inbox_cond.notify()
            return None
        return super()._trigger_event(event, *args, **kwargs)


class OrderedClient(socketio.Client):
    def _engineio_client_class(self):
        return _OrderedEngineIOClient


Got = collections.namedtuple("Got", "n event data t")  # n: arrival index on this client, t: monotonic


class Peer:
    """One Socket.IO connection that records every server event into per-event queues."""

    def __init__(self, name, base_url):
        self.name = name
        self.base_url = base_url
        self.sio = OrderedClient(reconnection=False)
        self.cond = threading.Condition()
        self.queues = collections.defaultdict(collections.deque)  # event -> deque[Got]
        self.recent = collections.deque(maxlen=20)  # (n, event) for diagnostics
        self.counter = itertools.count()
        for event in SERVER_EVENTS:
            self.sio.on(event, self._recorder(event))
        self.sio.on("*", self._record_any)  # anything undocumented, for diagnostics
        self.sio.on("disconnect", self._recorder("disconnect"))
        self.session = None  # last `session` payload

    def _record(self, event, args):
        data = args[0] if len(args) == 1 else (list(args) if args else None)
        with self.cond:
            got = Got(next(self.counter), event, data, time.monotonic())
            self.queues[event].append(got)
            self.recent.append((got.n, event))
            self.cond.notify_all()

    def _recorder(self, event):
        return lambda *args: self._record(event, args)

    def _record_any(self, event, *args):
        self._record(event, args)

    def connect(self, auth=None):
        try:
            self.sio.connect(self.base_url, transports=["websocket"], auth=auth,
                             wait_timeout=TIMEOUT)
        except socketio.exceptions.ConnectionError as exc:
            raise CheckFailed(f"{self.name}: Socket.IO connect to {self.base_url}", exc)
        self.session = wait(self, "session", what="after connecting")
        return self.session

    def emit(self, event, data=None):
        self.sio.emit(event, data)

    def pending(self, event):
        """Queued (not yet consumed) payloads of one event, without consuming them."""
        with self.cond:
            return [g.data for g in self.queues[event]]

    def close(self):
        try:
            if self.sio.connected:
                self.sio.disconnect()
        except Exception:
            pass

    @property
    def user_id(self):
        return self.session["userId"]

    @property
    def username(self):
        return self.session["username"]


def _matches(pred, data):
    if pred is None:
        return True
    try:
        return bool(pred(data))
    except (KeyError, TypeError, AttributeError, IndexError, ValueError):
        return False


def _timeout_failure(client, events, what, timeout):
    with client.cond:
        queued = {e: [g.data for g in client.queues[e]] for e in events}
        recent = list(client.recent)
    names = "/".join(f"'{e}'" for e in events)
    return CheckFailed(
        f"{client.name}: no {names} {what or ''} within {timeout:g}s".replace("  ", " "),
        f"queued {show(queued, 400)}; recent events {recent}")


def wait_any(client, preds, timeout=TIMEOUT, what=None):
    """Wait for the first queued event (any of `preds`' names) whose payload matches.

    Removes only the matched item; non-matching items stay queued. Returns a Got.
    """
    deadline = time.monotonic() + timeout
    with client.cond:
        while True:
            best = None
            for event, pred in preds.items():
                for got in client.queues[event]:
                    if _matches(pred, got.data):
                        if best is None or got.n < best.n:
                            best = got
                        break
            if best is not None:
                client.queues[best.event].remove(best)
                return best
            left = deadline - time.monotonic()
            if left <= 0:
                raise _timeout_failure(client, list(preds), what, timeout)
            client.cond.wait(left)


def wait(client, event, pred=None, timeout=TIMEOUT, what=None, full=False):
    """Wait for the next `event` on `client` whose payload satisfies `pred`; return its payload
    (or the Got record, with arrival index and time, if full=True)."""
    got = wait_any(client, {event: pred}, timeout, what)
    return got if full else got.data


def take_until(client, event, pred, timeout=TIMEOUT, what=None):
    """Consume `event` items in arrival order up to and including the first one matching
    `pred`. Returns (payloads before it, the matching payload)."""
    skipped = []
    deadline = time.monotonic() + timeout
    while True:
        left = max(0.0, deadline - time.monotonic())
        got = wait(client, event, None, left, what, full=True)
        if _matches(pred, got.data):
            return skipped, got.data
        skipped.append(got.data)


# --------------------------------------------------------------------------- REST

def http(ctx, method, path, body=None, headers=None):
    """Returns (status, parsed JSON or None, raw text)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(ctx.base + path, data=data, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    except (urllib.error.URLError, OSError) as err:
        raise CheckFailed(f"{method} {path}: request failed", err)
    text = raw.decode("utf-8", "replace")
    try:
        parsed = json.loads(text) if text.strip() else None
    except ValueError:
        parsed = None
    return status, parsed, text


# --------------------------------------------------------------------------- context

class Ctx:
    def __init__(self, base):
        self.base = base
        self.peers = []  # everything to disconnect at the end
        self.room = None  # room:created payload
        self.pong = None  # Got of the host's time:pong
        self.frames = []  # payloads of the 10 frames sent in check 12
        self.locked = None  # POST /api/rooms answer of check 19
        self.last_frame_at = None  # monotonic time of the host's last broadcast:audio

    def peer(self, name, auth=None):
        p = Peer(name, self.base)
        self.peers.append(p)
        p.connect(auth)
        return p

    @property
    def room_id(self):
        return self.room["roomId"]

    def server_now(self):
        """Server clock estimate: serverSend of the host's pong plus time elapsed since."""
        return self.pong.data["serverSend"] + (time.monotonic() - self.pong.t) * 1000.0


def find_participant(participants, user_id):
    for p in participants or []:
        if isinstance(p, dict) and p.get("userId") == user_id:
            return p
    return None


def joined_ok(room_id):
    return lambda d: d["roomId"] == room_id


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
    expect(d.get("participantCount") == 2, f"host's {got.event}.participantCount 2", d)
    if got.event == "user:joined":
        expect(d.get("username") == a.username and d.get("isHost") is False,
               "host's user:joined has A's username and isHost false", d)
    return f"A joined; host got {got.event} (participantCount 2)"


def check_05_unknown_room(ctx):
    probe = ctx.peer("probe")
    probe.emit("room:join", {"roomId": "nope-nope"})
    nf = wait(probe, "room:notfound")
    expect(isinstance(nf, dict) and nf.get("roomId") == "nope-nope",
           "room:notfound.roomId == 'nope-nope'", nf)
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
    expect(b.sio.connected, "B still connected after rate limit", b.pending("disconnect"))
    t = int(now_ms())
    b.emit("time:ping", {"clientTime": t})
    wait(b, "time:pong", lambda d: d["clientTime"] == t, what="after being rate limited")
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
    got = wait(h, "time:pong", lambda d: d["clientTime"] == t, full=True,
               what=f"echoing clientTime {t}")
    p = got.data
    recv, send = p.get("serverReceive"), p.get("serverSend")
    expect(is_num(recv) and is_num(send), "time:pong serverReceive/serverSend numeric", p)
    expect(recv <= send, "serverReceive <= serverSend", p)
    local = now_ms()
    expect(abs(recv - local) < 5000 and abs(send - local) < 5000,
           f"server times within 5 s of local clock {local:.0f}", p)
    ctx.pong = got
    return f"time:pong ok (server - local ~ {send - local:+.0f} ms)"


def check_11_broadcast_start(ctx):
    a, b, h = ctx.A, ctx.B, ctx.host
    a.emit("broadcast:start", {"roomId": ctx.room_id, "audioConfig": AUDIO_CONFIG})
    err = wait(a, "broadcast:error", what="after a guest's broadcast:start")
    expect(isinstance(err, dict) and isinstance(err.get("message"), str),
           "broadcast:error.message string", err)
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


def frame_bytes(i, size=200):
    return bytes((i * 37 + j * 11 + 5) & 0xFF for j in range(size))


def send_frame(ctx, data):
    """Host sends one 20 ms frame stamped with the estimated server time; returns the timestamp.

    Frames are paced at real time (one per 20 ms, like a live host) so a strict per-layer rate
    limiter is never the reason a frame is refused. This is pacing, not waiting for a result.
    """
    if ctx.last_frame_at is not None:
        gap = ctx.last_frame_at + 0.020 - time.monotonic()
        if gap > 0:
            time.sleep(gap)
    ctx.last_frame_at = time.monotonic()
    timestamp = int(ctx.server_now())
    ctx.host.emit("broadcast:audio", {"roomId": ctx.room_id, "data": data,
                                      "timestamp": timestamp, "duration": 20,
                                      "quality": "high"})
    return timestamp


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
    payloads = [frame_bytes(i) for i in range(10)]
    expect(len(set(payloads)) == 10, "test frames distinct", "duplicates")
    ctx.frames = [{"data": p, "timestamp": send_frame(ctx, p)} for p in payloads]
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
    send_frame(ctx, big)
    wait(ctx.host, "broadcast:error", what="for a 5000-byte frame")
    barrier = frame_bytes(99)
    send_frame(ctx, barrier)
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
    return "user:rename -> session with username Alice"


def check_17_host_token(ctx):
    h2 = ctx.H2 = ctx.peer("H2")
    h2.emit("room:join", {"roomId": ctx.room_id, "hostToken": ctx.room["hostToken"]})
    wait(h2, "room:joined", joined_ok(ctx.room_id), what="with hostToken")
    h2.emit("broadcast:stop", {"roomId": ctx.room_id})
    for who in (ctx.A, ctx.B, ctx.C):
        wait(who, "broadcast:stopped", joined_ok(ctx.room_id), what="after H2's broadcast:stop")
    expect(not h2.pending("broadcast:error"), "H2 got no broadcast:error",
           h2.pending("broadcast:error"))
    return "H2 joined with hostToken and stopped the broadcast"


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
        expect(isinstance(d.get("reason"), str), f"{who.name}'s room:closed.reason string", d)
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
    ctx.locked = r
    rid = r["roomId"]
    status, room, text = http(ctx, "GET", f"/api/rooms/{rid}")
    expect(status == 200 and isinstance(room, dict) and room.get("hasPassword") is True,
           "GET /api/rooms/{id} hasPassword true", f"{status} {text[:200]}")

    d = ctx.peer("D")
    for attempt, extra in (("without password", {}), ("with a wrong password", {"password": "x"})):
        d.emit("room:join", {"roomId": rid, **extra})
        wait(d, "error", lambda e: e["code"] == "bad_password",
             what=f"with code bad_password (join {attempt})")
        expect(not d.pending("room:joined"), f"no room:joined {attempt}", d.pending("room:joined"))
    d.emit("room:join", {"roomId": rid, "password": "pw1"})
    wait(d, "room:joined", joined_ok(rid), what="with the right password")
    return "password room: bad_password without/with wrong password, joined with it"


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
]


def main(argv):
    if len(argv) != 2 or not argv[1].startswith(("http://", "https://")):
        print(f"usage: {argv[0]} BASE_URL   (e.g. http://127.0.0.1:4567)", file=sys.stderr)
        return 2
    ctx = Ctx(argv[1].rstrip("/"))
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
        if ctx.locked:
            try:
                http(ctx, "DELETE", f"/api/rooms/{ctx.locked['roomId']}",
                     headers={"X-Host-Token": ctx.locked["hostToken"]})
            except Exception:
                pass
        # Close concurrently: a websocket close can wait a few seconds for the server's reply.
        closers = [threading.Thread(target=p.close, daemon=True) for p in ctx.peers]
        for t in closers:
            t.start()
        for t in closers:
            t.join(TIMEOUT)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
