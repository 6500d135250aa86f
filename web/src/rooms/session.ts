// One room page's connection to the room server: the Socket.IO session (identity, join,
// participants, chat, broadcast events, clock pings), the guest's media path and player, and
// the host's broadcaster. React reads it through `subscribe`/`snapshot` (useSyncExternalStore).
import { io, type Socket } from "socket.io-client";
import { localNow, type ClockEstimate } from "../lib/clock";
import type { Layer } from "../lib/jitter";
import { Broadcaster, IDLE_BROADCAST, type BroadcastState } from "./host/broadcaster";
import type { SourceChoice } from "./host/sources";
import { GuestPlayer, type ListenState } from "./guest/player";
import { TestHook, publishHook } from "./guest/hook";
import { MediaPath, mediaUrl } from "./mediaPath";
import { closedMessage, errorMessage } from "./messages";
import { NO_PARTICIPANTS, applyParticipants, toParticipant, type Participant, type Participants } from "./participants";
import { Pinger } from "./pinger";
import { roomStorage } from "./storage";
import { frameFromEvent } from "./wire";

export interface AudioConfig {
  sampleRate?: number;
  channels?: number;
  codec?: string;
  bitrate?: number;
}

export interface RoomInfo {
  roomId: string;
  roomName: string;
  hostId: string;
  isHost: boolean;
  isLive: boolean;
  delayMs: number;
  audioConfig: AudioConfig | null;
}

export interface ChatEntry {
  key: string;
  userId: string;
  username: string;
  message: string;
  timestamp: number;
  isHost: boolean;
}

/** `broadcast:stats`, every second while live. */
export interface BroadcastStats {
  bitrate: number;
  latency: number;
  bufferLevel: number;
  guestCount: number;
  quality: string;
  duration: number;
}

export type Phase = "connecting" | "joining" | "password" | "joined" | "notfound" | "full" | "closed" | "refused";
export type MediaState = "off" | "connecting" | "open" | "retrying" | "socket";

export interface RoomSnapshot {
  /** The Socket.IO connection. */
  connection: "connecting" | "connected" | "reconnecting" | "closed";
  connectionError: string | null;
  phase: Phase;
  /** A password was tried and refused. */
  passwordWrong: boolean;
  /** Why joining failed or the room closed, for a person. */
  phaseMessage: string | null;
  me: { userId: string; username: string } | null;
  room: RoomInfo | null;
  participants: Participants;
  chat: ChatEntry[];
  chatError: string | null;
  /** The text of a chat message the server refused, to give back to the composer. */
  chatRefused: string | null;
  renameError: string | null;
  /** Other errors, for a person. */
  notice: string | null;
  stats: BroadcastStats | null;
  /** A guest saw the host stop. */
  broadcastStopped: boolean;
  clock: ClockEstimate | null;
  media: MediaState;
  listen: ListenState | null;
  broadcast: BroadcastState;
}

/**
 * Frames relayed in the first moments after joining or (re)opening the media path do not grow
 * the delay: that lateness is this page starting up (worklet, decoder, the replay burst), not
 * the network. The warm-up ends after this long, or sooner once frames keep arriving in time
 * (see GuestPlayer).
 */
const WARMUP_MS = 3_000;
/** Chat entries kept on screen. */
const CHAT_KEEP = 200;
/** Reconnect delays for the media path, ms; after MEDIA_REFUSALS failed opens, use Socket.IO. */
const MEDIA_RETRY_MS = [500, 1_000, 2_000, 4_000, 8_000];
const MEDIA_REFUSALS = 3;

function num(v: unknown, d: number): number {
  return typeof v === "number" && Number.isFinite(v) ? v : d;
}
function str(v: unknown, d = ""): string {
  return typeof v === "string" ? v : d;
}
function obj(v: unknown): Record<string, unknown> {
  return v && typeof v === "object" ? (v as Record<string, unknown>) : {};
}

export class RoomSession {
  private socket: Socket;
  private snap: RoomSnapshot;
  private listeners = new Set<() => void>();
  private token: string | null = roomStorage.sessionToken();
  private password: string | null = null;
  private pinger: Pinger;
  private player: GuestPlayer | null = null;
  private broadcaster: Broadcaster;
  private media: MediaPath | null = null;
  private mediaTries = 0;
  private mediaRefusals = 0;
  private mediaTimer: number | null = null;
  private socketAudio = false;
  private joinOnSession = false;
  private reportTimer: number | null = null;
  private lastChat: string | null = null;
  private chatSeq = 0;
  private disposed = false;
  private unpublish: () => void = () => {};
  readonly hook = new TestHook();

  constructor(readonly roomId: string) {
    this.snap = {
      connection: "connecting",
      connectionError: null,
      phase: "connecting",
      passwordWrong: false,
      phaseMessage: null,
      me: null,
      room: null,
      participants: NO_PARTICIPANTS,
      chat: [],
      chatError: null,
      chatRefused: null,
      renameError: null,
      notice: null,
      stats: null,
      broadcastStopped: false,
      clock: null,
      media: "off",
      listen: null,
      broadcast: IDLE_BROADCAST,
    };
    this.hook.roomId = roomId;
    this.socket = io({
      path: "/socket.io/",
      autoConnect: false,
      // WebSocket first; long-polling if a proxy refuses WebSockets.
      transports: ["websocket", "polling"],
      tryAllTransports: true,
      // Read at every (re)connect: the latest token keeps identity and host rights.
      auth: (cb) => cb(this.token ? { token: this.token } : {}),
    });
    this.pinger = new Pinger(
      (clientTime) => this.emit("time:ping", { clientTime }),
      (e) => {
        this.hook.clockOffsetMs = e.offsetMs;
        this.hook.clockRttMs = e.rttMs;
        const first = this.snap.clock === null;
        this.set({ clock: e });
        if (first) this.maybeOpenMedia();
      },
    );
    this.broadcaster = new Broadcaster({
      roomId,
      emit: (event, payload) => this.emit(event, payload),
      clock: () => this.pinger.estimate,
      onChange: (b) => {
        this.hook.framesSent = b.framesSent;
        this.set({ broadcast: b });
      },
    });
    this.wire();
  }

  // ---- store ----

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  snapshot = (): RoomSnapshot => this.snap;

  private set(patch: Partial<RoomSnapshot>): void {
    if (this.disposed) return;
    this.snap = { ...this.snap, ...patch };
    for (const l of this.listeners) l();
  }

  private emit(event: string, payload: unknown): boolean {
    if (!this.socket.connected) return false;
    this.socket.emit(event, payload);
    return true;
  }

  // ---- lifecycle ----

  connect(): void {
    this.unpublish = publishHook(this.hook);
    this.socket.connect();
    this.reportTimer = window.setInterval(() => this.report(), 1_000);
  }

  dispose(): void {
    if (this.disposed) return;
    this.broadcaster.stop();
    this.disposed = true;
    if (this.reportTimer !== null) window.clearInterval(this.reportTimer);
    this.pinger.stop();
    this.closeMedia();
    this.player?.stop();
    this.player = null;
    if (this.socket.connected) this.socket.emit("room:leave", { roomId: this.roomId });
    this.socket.removeAllListeners();
    this.socket.disconnect();
    this.unpublish();
  }

  /** Joins (again), with `password` if given; uses the saved host token if there is one. */
  join(password?: string): void {
    if (password !== undefined) this.password = password;
    if (!this.socket.connected) return;
    const hostToken = roomStorage.hostToken(this.roomId);
    const req: Record<string, unknown> = { roomId: this.roomId };
    if (this.password) req.password = this.password;
    if (hostToken) req.hostToken = hostToken;
    if (!this.socketAudio) req.audio = "media";
    if (this.snap.phase !== "joined") this.set({ phase: "joining" });
    this.socket.emit("room:join", req);
  }

  // ---- socket events ----

  private wire(): void {
    const s = this.socket;
    s.on("connect", () => {
      this.set({ connection: "connected", connectionError: null });
      // Join once the server has said `session`: it sends that after it is ready for this
      // connection's events (one sent straight after connecting could arrive too early).
      this.joinOnSession = true;
    });
    s.on("connect_error", (e: Error) => {
      this.set({ connection: "reconnecting", connectionError: `Cannot reach the room server (${e.message}). Retrying…` });
    });
    s.on("disconnect", (reason: string) => {
      this.closeMedia();
      if (reason === "io server disconnect") {
        this.set({ connection: "closed", connectionError: this.snap.notice ?? "The server closed the connection." });
      } else if (reason !== "io client disconnect") {
        this.set({ connection: "reconnecting", connectionError: "Connection lost. Reconnecting…" });
      }
    });
    s.on("session", (p: unknown) => {
      const o = obj(p);
      const token = str(o.token);
      if (token) {
        this.token = token;
        roomStorage.setSessionToken(token);
      }
      const me = { userId: str(o.userId), username: str(o.username, "Guest") };
      const participants = applyParticipants(this.snap.participants, { type: "renamed", userId: me.userId, username: me.username });
      this.set({ me, participants, renameError: null });
      if (this.joinOnSession) {
        this.joinOnSession = false;
        this.join();
      }
      this.maybeOpenMedia();
    });
    s.on("room:joined", (p: unknown) => this.onJoined(obj(p)));
    s.on("room:notfound", () => this.fail("notfound", "This room does not exist, or it has closed."));
    s.on("room:full", (p: unknown) => {
      const max = num(obj(p).maxParticipants, 0);
      this.fail("full", `This room is full${max ? ` (${max} people)` : ""}. Try again later.`);
    });
    s.on("room:closed", (p: unknown) => this.onClosed(str(obj(p).reason)));
    s.on("participants:list", (p: unknown) => {
      const o = obj(p);
      const list = Array.isArray(o.participants) ? o.participants.map(toParticipant).filter((x): x is Participant => x !== null) : [];
      this.setParticipants(applyParticipants(this.snap.participants, { type: "list", participants: list, participantCount: num(o.participantCount, list.length), hostId: this.snap.room?.hostId }));
    });
    s.on("user:joined", (p: unknown) => {
      const who = toParticipant(p);
      if (who) this.setParticipants(applyParticipants(this.snap.participants, { type: "joined", participant: who, participantCount: num(obj(p).participantCount, NaN) || undefined }));
    });
    s.on("user:left", (p: unknown) => {
      const o = obj(p);
      this.setParticipants(applyParticipants(this.snap.participants, { type: "left", userId: str(o.userId), participantCount: num(o.participantCount, NaN) || undefined }));
    });
    s.on("user:renamed", (p: unknown) => {
      const o = obj(p);
      if (str(o.userId)) this.setParticipants(applyParticipants(this.snap.participants, { type: "renamed", userId: str(o.userId), username: str(o.username) }));
    });
    s.on("participants:update", (p: unknown) => {
      const o = obj(p);
      const joined = Array.isArray(o.joined) ? o.joined.map(toParticipant).filter((x): x is Participant => x !== null) : [];
      const left = Array.isArray(o.left) ? o.left.map((x) => ({ userId: str(obj(x).userId) })) : [];
      this.setParticipants(applyParticipants(this.snap.participants, { type: "update", joined, left, participantCount: num(o.participantCount, NaN) || undefined }));
    });
    s.on("chat:history", (p: unknown) => {
      const msgs = obj(p).messages;
      this.set({ chat: Array.isArray(msgs) ? msgs.map((m) => this.chatEntry(m)).slice(-CHAT_KEEP) : [] });
    });
    s.on("chat:message", (p: unknown) => {
      const e = this.chatEntry(p);
      const mine = e.userId === this.snap.me?.userId;
      this.set({ chat: [...this.snap.chat, e].slice(-CHAT_KEEP), ...(mine ? { chatError: null } : {}) });
    });
    s.on("broadcast:started", (p: unknown) => {
      const o = obj(p);
      const audioConfig = obj(o.audioConfig) as AudioConfig;
      if (this.snap.room) this.set({ room: { ...this.snap.room, isLive: true, audioConfig }, broadcastStopped: false });
      this.player?.reset(num(audioConfig.channels, 2), this.serverNow() + WARMUP_MS);
    });
    s.on("broadcast:stopped", () => {
      if (this.snap.room) this.set({ room: { ...this.snap.room, isLive: false }, stats: null, broadcastStopped: !this.snap.room.isHost });
      if (this.snap.room?.isHost && this.snap.broadcast.phase === "live") this.broadcaster.stop(null, true);
    });
    s.on("broadcast:stats", (p: unknown) => {
      const o = obj(p);
      this.set({
        stats: {
          bitrate: num(o.bitrate, 0),
          latency: num(o.latency, 0),
          bufferLevel: num(o.bufferLevel, 0),
          guestCount: num(o.guestCount, 0),
          quality: str(o.quality, "high"),
          duration: num(o.duration, 0),
        },
      });
    });
    s.on("broadcast:audio", (p: unknown) => {
      const f = frameFromEvent(p);
      if (f && this.socketAudio) this.player?.push(f);
    });
    s.on("broadcast:error", (p: unknown) => this.broadcaster.refused(str(obj(p).message, "refused")));
    s.on("quality:changed", (p: unknown) => {
      const q = str(obj(p).quality) === "low" ? "low" : "high";
      if (this.socketAudio) this.player?.layerChanged(q);
    });
    s.on("time:pong", (p: unknown) => this.pinger.pong(p));
    s.on("error", (p: unknown) => this.onError(str(obj(p).code), str(obj(p).message)));
  }

  private onJoined(o: Record<string, unknown>): void {
    const isHost = o.isHost === true;
    const room: RoomInfo = {
      roomId: str(o.roomId, this.roomId),
      roomName: str(o.roomName, "Listening room"),
      hostId: str(o.hostId),
      isHost,
      isLive: o.isLive === true,
      delayMs: num(o.delayMs, 400),
      audioConfig: o.audioConfig && typeof o.audioConfig === "object" ? (o.audioConfig as AudioConfig) : null,
    };
    const list = Array.isArray(o.participants) ? o.participants.map(toParticipant).filter((x): x is Participant => x !== null) : [];
    this.set({
      phase: "joined",
      phaseMessage: null,
      passwordWrong: false,
      room,
      participants: applyParticipants(this.snap.participants, { type: "list", participants: list, participantCount: num(o.participantCount, list.length), hostId: room.hostId }),
    });
    this.hook.role = isHost ? "host" : "guest";
    this.pinger.start();
    if (isHost) {
      this.closeMedia();
      this.player?.stop();
      this.player = null;
      this.set({ listen: null, media: "off" });
    } else {
      if (this.snap.broadcast.phase !== "idle") this.broadcaster.stop(null, true);
      this.ensurePlayer(room, num(o.serverTime, 0));
      this.maybeOpenMedia();
    }
  }

  private ensurePlayer(room: RoomInfo, joinedServerTime: number): void {
    if (this.player) {
      this.player.setLiveFrom(joinedServerTime);
      return;
    }
    const player = new GuestPlayer({
      roomDelayMs: room.delayMs,
      liveFromServerMs: joinedServerTime,
      channels: num(room.audioConfig?.channels, 2),
      outputOffsetMs: roomStorage.outputOffsetMs(),
      hook: this.hook,
      clock: () => this.pinger.estimate,
      onChange: (l) => this.set({ listen: l }),
      onLayer: (l) => this.switchLayer(l),
    });
    this.player = player;
    this.set({ listen: player.snapshot });
    void player.start();
  }

  private setParticipants(p: Participants): void {
    const room = this.snap.room && p.hostId && p.hostId !== this.snap.room.hostId ? { ...this.snap.room, hostId: p.hostId } : this.snap.room;
    this.set({ participants: p, room });
  }

  private chatEntry(m: unknown): ChatEntry {
    const o = obj(m);
    this.chatSeq += 1;
    return {
      key: `${num(o.timestamp, 0)}-${this.chatSeq}`,
      userId: str(o.userId),
      username: str(o.username, "Guest"),
      message: str(o.message),
      timestamp: num(o.timestamp, Date.now()),
      isHost: o.isHost === true,
    };
  }

  private fail(phase: Phase, message: string): void {
    this.closeMedia();
    this.set({ phase, phaseMessage: message });
  }

  private onClosed(reason: string): void {
    this.broadcaster.stop(null, true);
    this.closeMedia();
    this.player?.stop();
    this.player = null;
    this.pinger.stop();
    roomStorage.setHostToken(this.roomId, null);
    this.set({ phase: "closed", phaseMessage: closedMessage(reason), room: this.snap.room ? { ...this.snap.room, isLive: false } : null, listen: null, stats: null });
  }

  private onError(code: string, message: string): void {
    const human = errorMessage(code, message);
    switch (code) {
      case "bad_password":
        this.set({ phase: "password", passwordWrong: this.password !== null, phaseMessage: null });
        return;
      case "bad_host_token":
        roomStorage.setHostToken(this.roomId, null);
        this.set({ notice: human });
        this.join();
        return;
      case "chat_empty":
      case "chat_too_long":
      case "chat_rate_limited":
        this.set({ chatError: human, chatRefused: this.lastChat });
        return;
      case "bad_name":
        this.set({ renameError: human });
        return;
      case "server_full":
        this.set({ notice: human, connectionError: human });
        return;
      default:
        if (this.snap.phase === "joining") this.set({ phase: "refused", phaseMessage: human });
        else this.set({ notice: human });
    }
  }

  // ---- media path ----

  /** Opens the media path once joined as a guest, with a session token and a clock estimate. */
  private maybeOpenMedia(): void {
    if (this.disposed || this.socketAudio || this.media || this.mediaTimer !== null) return;
    if (this.snap.phase !== "joined" || !this.snap.room || this.snap.room.isHost) return;
    if (!this.token || !this.pinger.estimate || !this.socket.connected) return;
    const layer = this.snap.listen?.layer ?? "high";
    this.set({ media: "connecting" });
    this.media = new MediaPath(mediaUrl(location, this.roomId, this.token, layer), {
      onOpen: () => {
        this.mediaTries = 0;
        this.mediaRefusals = 0;
        // The replay of the last seconds comes first: it says nothing about this network.
        this.player?.setLiveFrom(this.serverNow() + WARMUP_MS);
        this.set({ media: "open" });
      },
      onFrame: (f) => this.player?.push(f),
      onNotice: (n) => {
        if (n.type === "dropped") this.player?.dropped(n.frames);
        else if (n.type === "stopped" && this.snap.room) this.set({ broadcastStopped: true, room: { ...this.snap.room, isLive: false } });
      },
      onClose: (opened) => {
        this.media = null;
        if (!opened) this.mediaRefusals += 1;
        this.retryMedia();
      },
      onProtocolError: (message) => this.set({ notice: `Bad audio frame from the server: ${message}` }),
    });
  }

  private retryMedia(): void {
    if (this.disposed || this.snap.phase !== "joined" || this.snap.room?.isHost || !this.socket.connected) {
      this.set({ media: "off" });
      return;
    }
    if (this.mediaRefusals >= MEDIA_REFUSALS) {
      // The media path is refused (a proxy without WebSockets?): take audio over Socket.IO.
      this.socketAudio = true;
      this.set({ media: "socket" });
      this.join();
      return;
    }
    const wait = MEDIA_RETRY_MS[Math.min(this.mediaTries, MEDIA_RETRY_MS.length - 1)];
    this.mediaTries += 1;
    this.set({ media: "retrying" });
    this.mediaTimer = window.setTimeout(() => {
      this.mediaTimer = null;
      this.maybeOpenMedia();
    }, wait);
  }

  private closeMedia(): void {
    if (this.mediaTimer !== null) window.clearTimeout(this.mediaTimer);
    this.mediaTimer = null;
    this.media?.close();
    this.media = null;
    if (!this.disposed && this.snap.media !== "off" && this.snap.media !== "socket") this.set({ media: "off" });
  }

  private switchLayer(layer: Layer): void {
    if (this.media) this.media.setLayer(layer);
    this.emit("quality:request", { quality: layer });
    this.player?.layerChanged(layer);
  }

  private serverNow(): number {
    return localNow() + (this.pinger.estimate?.offsetMs ?? 0);
  }

  /** Tells the room this guest's buffer level, once a second. */
  private report(): void {
    if (this.player && this.snap.phase === "joined" && !this.snap.room?.isHost) {
      this.emit("stats:report", { bufferLevel: Math.round(this.player.bufferLevelMs) });
    }
  }

  // ---- actions ----

  sendChat(text: string): boolean {
    const message = text.trim();
    if (!message) {
      this.set({ chatError: errorMessage("chat_empty", "") });
      return false;
    }
    this.lastChat = message;
    if (!this.emit("chat:message", { roomId: this.roomId, message })) {
      this.set({ chatError: "Not connected; the message was not sent." });
      return false;
    }
    this.set({ chatError: null, chatRefused: null });
    return true;
  }

  rename(username: string): void {
    if (!this.emit("user:rename", { username: username.trim() })) this.set({ renameError: "Not connected; try again in a moment." });
  }

  startBroadcast(choice: SourceChoice, monitor: boolean): Promise<void> {
    return this.broadcaster.start(choice, monitor);
  }

  stopBroadcast(): void {
    this.broadcaster.stop();
  }

  startListening(): Promise<void> {
    return this.player?.resume() ?? Promise.resolve();
  }

  setVolume(v: number): void {
    this.player?.setVolume(v);
  }

  setOutputOffset(ms: number): void {
    roomStorage.setOutputOffsetMs(ms);
    this.player?.setOutputOffset(ms);
  }

  dismissNotice(): void {
    this.set({ notice: null });
  }

  /** The host ends the room for everyone (needs the host token saved when it was created). */
  async closeRoom(): Promise<string | null> {
    const token = roomStorage.hostToken(this.roomId);
    if (!token) return "This browser does not have the room's host key, so it cannot close the room.";
    this.broadcaster.stop();
    try {
      const r = await fetch(`/api/rooms/${encodeURIComponent(this.roomId)}`, { method: "DELETE", headers: { "X-Host-Token": token } });
      if (r.status === 204 || r.status === 404) return null;
      return r.status === 403 ? "The server did not accept this browser's host key." : `The room could not be closed (${r.status}).`;
    } catch {
      return "The room could not be closed: the server is unreachable.";
    }
  }

  get canClose(): boolean {
    return roomStorage.hostToken(this.roomId) !== null;
  }
}
