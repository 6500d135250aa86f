"""Shared client side of the listening-room protocol checks (docs/rooms.md): flow.py and
limits.py import everything here, so each piece exists once.

- a python-socketio sync client (websocket transport only) that hands received events to the
  handlers one at a time, in arrival order, and records them into per-event queues;
- waiting with deadlines (`wait`, `wait_any`, `take_until`) and failure reporting;
- REST over urllib;
- the server clock (a `time:ping` burst), paced host audio frames, distinct frame bytes;
- the ping barrier `still_usable`;
- the runner `run`: one "ok - ..." line per passing check; on the first failure
  "FAIL - <what>, got <value>" and exit 1; exit 0 only if every check passed.

Nothing here sleeps and hopes: every expectation waits on a condition with a timeout. The only
sleeps pace audio frames at 20 ms, like a live host.
"""

import collections
import itertools
import json
import sys
import threading
import time
import urllib.error
import urllib.request

import engineio
import socketio

TIMEOUT = 5.0  # seconds, for every wait
FRAME_MS = 20

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


def take_all(peer, event):
    """Consume and return every queued `event` item (Got records: n, event, data, t)."""
    with peer.cond:
        items = list(peer.queues[event])
        peer.queues[event].clear()
    return items


def drain(peer, *events):
    for event in events:
        take_all(peer, event)


_ping_ids = itertools.count(1)


def still_usable(peer, what):
    """Barrier: the connection is up and answers a time:ping (waits for the matching
    time:pong). Events on one connection are handled and answered in order, so whatever the
    server would send for an event emitted before this ping has arrived once it returns."""
    expect(peer.sio.connected and not peer.pending("disconnect"),
           f"{peer.name} still connected {what}", peer.pending("disconnect"))
    t = int(now_ms()) * 1000 + next(_ping_ids) % 1000  # unique per call
    peer.emit("time:ping", {"clientTime": t})
    wait(peer, "time:pong", lambda d: d["clientTime"] == t, what=f"(usability ping {what})")


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


# --------------------------------------------------------------------------- audio pacing

class Pacer:
    """Releases the caller once per `period` seconds on an absolute schedule (no drift), so
    a run of frames has the real-time rate of a live host and a per-layer rate limit is never
    the reason a paced frame is refused. This is pacing, not waiting for a result."""

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


def frame_bytes(tag, i, size=200):
    """Distinct test payload: a tag byte, the index, then a filler depending on both."""
    return bytes([tag & 0xFF, i & 0xFF]) + bytes((tag * 7 + i * 37 + j * 11) & 0xFF
                                                 for j in range(size - 2))


def frame_data(d):
    return d.get("data") if isinstance(d, dict) else None


# --------------------------------------------------------------------------- context

class Ctx:
    """Run state shared by the checks; checks add their own attributes."""

    def __init__(self, base):
        self.base = base
        self.peers = []  # everything to disconnect at the end
        self.cleanups = []  # callables run at the end (errors ignored)
        self.room = None  # room:created payload of the main room
        self.host = None  # the main room's host Peer
        self.clock_offset = 0.0  # server clock - local clock, ms (see sync_clock)
        self.pacer = Pacer()

    def peer(self, name, auth=None):
        p = Peer(name, self.base)
        self.peers.append(p)
        p.connect(auth)
        return p

    @property
    def room_id(self):
        return self.room["roomId"]

    def sync_clock(self, peer, samples=5):
        """Learns the server clock from a time:ping burst, keeping the lowest-RTT sample.
        Returns that sample's time:pong payload."""
        best = None
        for _ in range(samples):
            t0 = now_ms()
            sent = int(t0) * 1000 + next(_ping_ids) % 1000  # an integer: echoed exactly
            peer.emit("time:ping", {"clientTime": sent})
            p = wait(peer, "time:pong", lambda d, sent=sent: d["clientTime"] == sent,
                     what="(clock sync)")
            t1 = now_ms()
            expect(is_num(p.get("serverReceive")) and is_num(p.get("serverSend")),
                   "time:pong serverReceive/serverSend numeric", p)
            rtt = t1 - t0
            offset = (p["serverReceive"] + p["serverSend"]) / 2 - (t0 + t1) / 2
            if best is None or rtt < best[0]:
                best = (rtt, offset, p)
        self.clock_offset = best[1]
        return best[2]

    def server_now(self):
        return now_ms() + self.clock_offset


def host_frame(ctx, data, quality="high", pace=True, duration=FRAME_MS, peer=None):
    """`peer` (the main room's host by default) sends one frame stamped with the estimated
    server time, paced at one per 20 ms unless pace=False. Returns the timestamp."""
    if pace:
        ctx.pacer.wait()
    timestamp = int(ctx.server_now())
    (peer or ctx.host).emit("broadcast:audio", {"roomId": ctx.room_id, "data": data,
                                                "timestamp": timestamp, "duration": duration,
                                                "quality": quality})
    return timestamp


def find_participant(participants, user_id):
    for p in participants or []:
        if isinstance(p, dict) and p.get("userId") == user_id:
            return p
    return None


def joined_ok(room_id):
    return lambda d: d["roomId"] == room_id


# --------------------------------------------------------------------------- runner

def run(argv, checks):
    """Runs `checks` (functions of a Ctx returning a detail line) in order, stopping at the
    first failure. Returns the exit code."""
    if len(argv) != 2 or not argv[1].startswith(("http://", "https://")):
        print(f"usage: {argv[0]} BASE_URL   (e.g. http://127.0.0.1:4567)", file=sys.stderr)
        return 2
    ctx = Ctx(argv[1].rstrip("/"))
    code = 0
    try:
        for check in checks:
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
        for cleanup in ctx.cleanups:
            try:
                cleanup()
            except Exception:
                pass
        # Close concurrently: a websocket close can wait a few seconds for the server's reply.
        closers = [threading.Thread(target=p.close, daemon=True) for p in ctx.peers]
        for t in closers:
            t.start()
        for t in closers:
            t.join(TIMEOUT)
    return code
