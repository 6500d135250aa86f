// The playback engine: one <audio> element, fed by hls.js (MSE), native HLS, or a progressive
// transcoded stream, with error recovery. Plain TypeScript (no React) so it has one job: turn
// "play this track from here at this quality" into sound, and publish an observable state.
//
// Mode choice per track: HLS through hls.js where MSE exists, native HLS where the element
// plays it (Safari), else progressive. A track whose package is not ready (409) or failed (422)
// plays progressively at once; its master playlist request has queued the packaging, so the
// next play of it will be HLS.
//
// Recovery (policy in lib/backoff.ts): network failures retry with exponential backoff and
// jitter, stepping one quality down after repeated failures; a 401 refreshes the session and
// retries at the same position; when retrying cannot help, playback stops with a human message
// and `retry()` (the Retry button) starts again from where it stopped.
import type Hls from "hls.js";
import type { ErrorData, Level } from "hls.js";
import { accessToken, refresh } from "../api/client";
import type { Track } from "../api/types";
import {
  decide,
  DEFAULT_POLICY,
  FRESH,
  giveUpMessage,
  retryNotice,
  type Failure,
  type RetryPolicy,
  type RetryState,
} from "../lib/backoff";
import {
  currentConnection,
  HLS_TARGET_KBPS,
  nearestLevel,
  progressiveQuality,
  stepDown,
  type QualitySetting,
  type StreamQuality,
} from "../lib/quality";
import { masterUrl, nativeMasterUrl, streamUrl } from "./urls";

type HlsClass = typeof Hls;

export type EngineMode = "hls" | "native-hls" | "progressive";
/** `auto`: HLS where possible; `progressive`: always the direct stream (a user setting). */
export type StreamPreference = "auto" | "progressive";
export type EngineStatus =
  | "idle"
  | "loading"
  | "playing"
  | "paused"
  | "buffering"
  | "recovering"
  | "error"
  | "ended";

export interface HlsLevelInfo {
  /** hls.js level index (levels are sorted by bitrate, lowest first). */
  index: number;
  /** `BANDWIDTH` in bits/s. */
  bitrate: number;
}

/** Everything the UI and the tests observe. A new object on every change. */
export interface EngineState {
  trackId: string | null;
  mode: EngineMode | null;
  status: EngineStatus;
  paused: boolean;
  /** Seconds. */
  position: number;
  /** Seconds; NaN while unknown. */
  duration: number;
  volume: number;
  muted: boolean;
  quality: QualitySetting;
  preference: StreamPreference;
  /** The `quality=` of the progressive stream playing (after any step-down). */
  progressiveQuality: StreamQuality | null;
  /** The HLS ladder of the track playing. */
  levels: readonly HlsLevelInfo[];
  /** The HLS level playing; -1 when none (yet). */
  level: number;
  /** Why this track plays progressively although HLS was wanted (409/422/fatal error). */
  fallback: string | null;
  /** A transient message while recovering. */
  notice: string | null;
  /** Playback stopped for good: the message to show next to a Retry button. */
  error: string | null;
  /** Failures handled since the track started (for tests and diagnostics). */
  failures: number;
}

/** What a newly loaded track starts from (volume, mute and quality are the listener's, kept). */
const PER_TRACK = {
  mode: null,
  progressiveQuality: null,
  levels: [],
  level: -1,
  fallback: null,
  notice: null,
  error: null,
  failures: 0,
} satisfies Partial<EngineState>;

const INITIAL: EngineState = {
  ...PER_TRACK,
  trackId: null,
  status: "idle",
  paused: true,
  position: 0,
  duration: NaN,
  volume: 1,
  muted: false,
  quality: "auto",
  preference: "auto",
};

/** Seconds of steady progress after a recovery before the failure history is forgotten. */
const HEALTHY_AFTER_S = 3;

let hlsModule: Promise<HlsClass | null> | null = null;

/** hls.js, loaded on first use (it is large) and only where MSE exists; null elsewhere. */
export function loadHls(): Promise<HlsClass | null> {
  hlsModule ??= import("hls.js")
    .then((m) => (m.default.isSupported() ? m.default : null))
    .catch(() => null);
  return hlsModule;
}

/** The HTTP status behind a failed media URL (0: no answer), found with a HEAD. */
async function headStatus(url: string): Promise<number> {
  try {
    const r = await fetch(url, { method: "HEAD", cache: "no-store" });
    return r.status;
  } catch {
    return 0;
  }
}

export interface EngineOptions {
  audio?: HTMLAudioElement;
  policy?: RetryPolicy;
  random?: () => number;
}

export class Engine {
  readonly audio: HTMLAudioElement;
  /** Called when the track plays to its end (the player moves on). */
  onEnded: (() => void) | null = null;

  private st: EngineState = INITIAL;
  private readonly listeners = new Set<() => void>();
  private readonly policy: RetryPolicy;
  private readonly random: () => number;
  private track: Track | null = null;
  private hls: Hls | null = null;
  private HlsCtor: HlsClass | null | undefined = undefined;
  /** Bumped on every load: async work from an older load checks it and stops. */
  private seq = 0;
  private retryState: RetryState = FRESH;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  /** The position to restore once the source has metadata (a resume or a seek before load). */
  private pendingSeek: number | null = null;
  /** Whether the user wants sound (play pressed, or autoplay). */
  private wantPlay = false;
  /** The progressive tier after step-downs, for this track. */
  private stepped: StreamQuality | null = null;
  /** Where the last recovery resumed; progress past it clears the failure history. */
  private recoveredAt: number | null = null;
  private mediaRecoveries = 0;

  constructor(opts: EngineOptions = {}) {
    this.audio = opts.audio ?? new Audio();
    this.audio.preload = "auto";
    this.policy = opts.policy ?? DEFAULT_POLICY;
    this.random = opts.random ?? Math.random;
    this.listen();
  }

  // ---- observation ----------------------------------------------------------------------

  getState = (): EngineState => this.st;

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  private set(patch: Partial<EngineState>): void {
    this.st = { ...this.st, ...patch };
    for (const l of this.listeners) l();
  }

  // ---- commands -------------------------------------------------------------------------

  /** Loads `track` and (by default) plays it from `startAt` seconds. */
  load(track: Track, { autoplay = true, startAt = 0 }: { autoplay?: boolean; startAt?: number } = {}): void {
    this.teardown();
    this.track = track;
    this.retryState = FRESH;
    this.recoveredAt = null;
    this.mediaRecoveries = 0;
    this.stepped = null;
    this.wantPlay = autoplay;
    this.pendingSeek = startAt > 0 ? startAt : null;
    this.set({
      ...PER_TRACK,
      trackId: track.id,
      status: "loading",
      paused: !autoplay,
      position: startAt,
      duration: track.duration_ms > 0 ? track.duration_ms / 1000 : NaN,
    });
    void this.start(this.seq);
  }

  /** Stops and forgets the track. */
  stop(): void {
    this.teardown();
    this.track = null;
    this.wantPlay = false;
    this.set({ ...INITIAL, volume: this.st.volume, muted: this.st.muted, quality: this.st.quality, preference: this.st.preference });
  }

  play(): void {
    if (!this.track) return;
    if (this.st.status === "error") return this.retry();
    this.wantPlay = true;
    this.set({ paused: false });
    // Mid-recovery or still loading: the pending start will play.
    if (this.audio.src && this.st.status !== "recovering") this.playAudio();
  }

  pause(): void {
    this.wantPlay = false;
    this.audio.pause();
    this.set({ paused: true });
  }

  /** Play/pause by intent: a track still loading counts as playing (pressing it pauses). */
  toggle(): void {
    if (this.wantPlay) this.pause();
    else this.play();
  }

  /** Seeks to `seconds` (clamped to the track); before metadata, remembered until it arrives. */
  seek(seconds: number): void {
    if (!this.track) return;
    const d = this.knownDuration();
    const t = Math.max(0, Number.isFinite(d) ? Math.min(d, seconds) : seconds);
    if (this.audio.readyState === 0 || this.st.status === "error" || this.st.status === "recovering") {
      this.pendingSeek = t;
    } else {
      this.audio.currentTime = t;
    }
    this.set({ position: t });
  }

  seekBy(delta: number): void {
    this.seek(this.currentPosition() + delta);
  }

  setVolume(v: number): void {
    this.audio.volume = Math.max(0, Math.min(1, v));
    if (this.audio.volume > 0 && this.audio.muted) this.audio.muted = false;
  }

  setMuted(m: boolean): void {
    this.audio.muted = m;
  }

  /** The user's quality choice: HLS pins the nearest level (auto: ABR); progressive reloads. */
  setQuality(q: QualitySetting): void {
    if (q === this.st.quality) return;
    this.set({ quality: q });
    this.stepped = null;
    if (!this.track) return;
    if (this.st.mode === "hls" && this.hls) {
      this.applyHlsQuality(this.hls);
    } else if (this.st.mode === "progressive" && this.st.status !== "error") {
      const next = progressiveQuality(q, currentConnection());
      if (next !== this.st.progressiveQuality) this.restartAt(this.currentPosition(), "progressive");
    }
  }

  /** HLS or always progressive; applies to the track playing at once. */
  setPreference(p: StreamPreference): void {
    if (p === this.st.preference) return;
    this.set({ preference: p });
    if (this.track && this.st.status !== "error") this.restartAt(this.currentPosition());
  }

  /** Starts again after a failure, from where playback stopped (the Retry button). */
  retry(): void {
    if (!this.track) return;
    this.load(this.track, { startAt: this.pendingSeek ?? this.st.position });
  }

  /**
   * Warms `track` so it starts at once: the master playlist when it will play as HLS (which
   * also queues its packaging), else a HEAD of its stream (the server encodes the first chunk).
   */
  async warm(track: Track): Promise<void> {
    const hlsLikely =
      this.st.preference === "auto" &&
      ((await loadHls()) !== null || this.audio.canPlayType("application/vnd.apple.mpegurl") !== "");
    const token = accessToken();
    try {
      if (hlsLikely) {
        await fetch(masterUrl(track.id), {
          headers: token ? { authorization: `Bearer ${token}` } : {},
          cache: "no-store",
        });
      } else {
        const q = progressiveQuality(this.st.quality, currentConnection());
        await fetch(streamUrl(track.id, q, token), { method: "HEAD" });
      }
    } catch {
      /* warming is best effort */
    }
  }

  // ---- starting a source ----------------------------------------------------------------

  private async start(seq: number, force?: EngineMode): Promise<void> {
    const mode = force ?? (await this.pickMode());
    if (seq !== this.seq || !this.track) return;
    if (mode === "hls" && this.HlsCtor) this.startHls(this.HlsCtor);
    else if (mode === "native-hls") this.startNative();
    else this.startProgressive();
  }

  private async pickMode(): Promise<EngineMode> {
    if (this.st.preference === "progressive") return "progressive";
    this.HlsCtor = await loadHls();
    if (this.HlsCtor) return "hls";
    if (this.audio.canPlayType("application/vnd.apple.mpegurl") !== "") return "native-hls";
    return "progressive";
  }

  private startProgressive(): void {
    const track = this.track;
    if (!track) return;
    const q = this.stepped ?? progressiveQuality(this.st.quality, currentConnection());
    this.set({ mode: "progressive", progressiveQuality: q, levels: [], level: -1 });
    this.audio.src = streamUrl(track.id, q, accessToken());
    if (this.wantPlay) this.playAudio();
  }

  private startNative(): void {
    const track = this.track;
    if (!track) return;
    this.set({ mode: "native-hls", progressiveQuality: null });
    this.audio.src = nativeMasterUrl(track.id, accessToken());
    if (this.wantPlay) this.playAudio();
  }

  private startHls(HlsCtor: HlsClass): void {
    const track = this.track;
    if (!track) return;
    const seq = this.seq;
    const hls = new HlsCtor({
      // fMP4 needs no transmuxing, and a worker would have to be a file of the build (CSP).
      enableWorker: false,
      startPosition: this.pendingSeek ?? -1,
      xhrSetup: (xhr, url) => {
        if (xhr.readyState === 0) xhr.open("GET", url, true);
        const token = accessToken();
        if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
      },
    });
    this.pendingSeek = null;
    this.hls = hls;
    this.set({ mode: "hls", progressiveQuality: null, levels: [], level: -1 });
    hls.on(HlsCtor.Events.MANIFEST_PARSED, (_e, data) => {
      if (seq !== this.seq) return;
      this.set({ levels: data.levels.map((l: Level, index: number) => ({ index, bitrate: l.bitrate })) });
      this.applyHlsQuality(hls);
      if (this.wantPlay) this.playAudio();
    });
    hls.on(HlsCtor.Events.LEVEL_SWITCHED, (_e, data) => {
      if (seq === this.seq) this.set({ level: data.level });
    });
    hls.on(HlsCtor.Events.ERROR, (_e, data) => {
      if (seq === this.seq && hls === this.hls) this.onHlsError(HlsCtor, hls, data);
    });
    hls.attachMedia(this.audio);
    hls.loadSource(masterUrl(track.id));
  }

  /** Pins the level nearest the setting's bitrate, or hands the choice back to ABR. */
  private applyHlsQuality(hls: Hls): void {
    const q = this.st.quality;
    hls.autoLevelCapping = -1;
    if (q === "auto") {
      hls.nextLevel = -1;
      return;
    }
    const idx = nearestLevel(
      hls.levels.map((l) => l.bitrate),
      HLS_TARGET_KBPS[q],
    );
    // An immediate switch: the user asked for it, and a short track may be fully buffered.
    if (idx >= 0 && idx !== hls.currentLevel) hls.currentLevel = idx;
  }

  /** Loads the current track again at `position` (mode change, quality change, fallback). */
  private restartAt(position: number, force?: EngineMode): void {
    this.teardown();
    this.pendingSeek = position > 0 ? position : null;
    this.set({ status: "loading", error: null, position });
    void this.start(this.seq, force);
  }

  /** Plays the current track as a progressive stream from where it was, saying why. */
  private fallBack(reason: string): void {
    const pos = this.currentPosition();
    this.set({ fallback: reason });
    this.restartAt(pos, "progressive");
  }

  private playAudio(): void {
    const seq = this.seq;
    this.audio.play().catch((e: unknown) => {
      if (seq !== this.seq) return;
      const name = e instanceof DOMException ? e.name : "";
      if (name === "NotAllowedError") {
        // Autoplay blocked: wait for a press of Play, and say so rather than sit silent.
        this.wantPlay = false;
        this.set({ paused: true, status: "paused", notice: "Press play to start listening." });
      }
      // AbortError: a newer load replaced this one. Source errors arrive as "error" events.
    });
  }

  private teardown(): void {
    this.seq++;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.hls) {
      this.hls.destroy();
      this.hls = null;
    }
    this.audio.removeAttribute("src");
    this.audio.load();
  }

  // ---- positions ------------------------------------------------------------------------

  private knownDuration(): number {
    const d = this.audio.duration;
    if (Number.isFinite(d) && d > 0) return d;
    return this.track && this.track.duration_ms > 0 ? this.track.duration_ms / 1000 : NaN;
  }

  /** Where playback is (or should resume): a pending seek wins over the element's clock. */
  private currentPosition(): number {
    if (this.pendingSeek !== null) return this.pendingSeek;
    if (this.audio.readyState > 0) return this.audio.currentTime;
    return this.st.position;
  }

  // ---- media element events --------------------------------------------------------------

  private listen(): void {
    const a = this.audio;
    a.addEventListener("play", () => {
      // Also a play from outside the app (browser media controls).
      this.wantPlay = true;
      this.set({ paused: false });
    });
    a.addEventListener("playing", () => {
      const notice = this.recoveredAt === null ? null : this.st.notice;
      this.set({ paused: false, status: "playing", notice });
    });
    a.addEventListener("pause", () => {
      // Our own reloads pause the element while loading or recovering: not the user's wish.
      if (a.ended || ["error", "recovering", "loading", "ended"].includes(this.st.status)) return;
      this.wantPlay = false;
      this.set({ paused: true, status: "paused" });
    });
    a.addEventListener("waiting", () => {
      if (this.st.status !== "recovering") this.set({ status: "buffering" });
    });
    a.addEventListener("loadedmetadata", () => {
      if (this.pendingSeek !== null) a.currentTime = this.pendingSeek;
      this.pendingSeek = null;
    });
    a.addEventListener("durationchange", () => {
      if (Number.isFinite(a.duration) && a.duration > 0) this.set({ duration: a.duration });
    });
    a.addEventListener("timeupdate", () => {
      if (a.readyState === 0) return;
      this.set({ position: a.currentTime });
      this.noteProgress(a.currentTime);
    });
    a.addEventListener("volumechange", () => this.set({ volume: a.volume, muted: a.muted }));
    a.addEventListener("ended", () => {
      this.wantPlay = false;
      this.set({ status: "ended", paused: true, position: this.knownDuration() || a.currentTime });
      this.onEnded?.();
    });
    a.addEventListener("error", () => void this.onAudioError());
  }

  /** After a recovery, steady progress means the trouble is over: forget the failures. */
  private noteProgress(position: number): void {
    if (this.recoveredAt === null) return;
    if (position >= this.recoveredAt + HEALTHY_AFTER_S) {
      this.recoveredAt = null;
      this.retryState = FRESH;
      this.mediaRecoveries = 0;
      this.set({ notice: null });
    } else if (this.st.notice && this.st.status === "playing") {
      this.set({ notice: null });
    }
  }

  private async onAudioError(): Promise<void> {
    if (!this.track || !this.audio.error) return;
    const seq = this.seq;
    if (this.st.mode === "hls") {
      // hls.js reports its own errors; an element error under MSE is a decode problem.
      if (this.hls && this.HlsCtor) this.recoverMedia(this.hls);
      return;
    }
    if (this.st.mode === "native-hls") {
      return this.fallBack("This browser's HLS player could not play the track; using a direct stream.");
    }
    const url = this.audio.currentSrc || this.audio.src;
    const position = this.currentPosition();
    const status = url ? await headStatus(url) : 0;
    if (seq !== this.seq) return;
    const q = this.st.progressiveQuality ?? "high";
    this.recover({ status, canStepDown: stepDown(q) !== null }, position, (down) => {
      if (down) this.stepped = stepDown(q);
      this.restartAt(this.currentPosition(), "progressive");
    });
  }

  // ---- hls.js errors ---------------------------------------------------------------------

  private onHlsError(HlsCtor: HlsClass, hls: Hls, data: ErrorData): void {
    if (!data.fatal) return;
    const position = this.currentPosition();
    const { ErrorTypes, ErrorDetails } = HlsCtor;
    if (data.type === ErrorTypes.NETWORK_ERROR) {
      const status = data.response?.code ?? 0;
      if (status === 409) {
        return this.fallBack("This track is still being prepared for adaptive streaming; playing a direct stream.");
      }
      if (status === 422) {
        return this.fallBack("Adaptive streaming is not available for this track; playing a direct stream.");
      }
      const playlist =
        data.details === ErrorDetails.MANIFEST_LOAD_ERROR ||
        data.details === ErrorDetails.MANIFEST_LOAD_TIMEOUT ||
        data.details === ErrorDetails.MANIFEST_PARSING_ERROR;
      const level = hls.currentLevel >= 0 ? hls.currentLevel : hls.loadLevel;
      this.recover({ status, canStepDown: level > 0 }, position, (down) => {
        const at = this.currentPosition();
        if (playlist || status === 410) {
          // No playlist yet, or the package was made again: start over with a fresh one.
          this.restartAt(at);
          return;
        }
        if (down) {
          const lower = Math.max(0, level - 1);
          if (this.st.quality === "auto") hls.autoLevelCapping = lower;
          else hls.currentLevel = lower;
        }
        this.pendingSeek = null;
        this.set({ status: "buffering" });
        hls.startLoad(at);
      });
    } else if (data.type === ErrorTypes.MEDIA_ERROR) {
      this.recoverMedia(hls);
    } else {
      this.fallBack("Adaptive streaming failed for this track; playing a direct stream.");
    }
  }

  /** hls.js's media error ladder: recover, then swap the codec and recover, then give up on HLS. */
  private recoverMedia(hls: Hls): void {
    this.mediaRecoveries++;
    this.recoveredAt = this.currentPosition();
    this.set({ failures: this.st.failures + 1 });
    if (this.mediaRecoveries === 1) {
      hls.recoverMediaError();
    } else if (this.mediaRecoveries === 2) {
      hls.swapAudioCodec();
      hls.recoverMediaError();
    } else {
      this.fallBack("This browser could not decode the adaptive stream; playing a direct stream.");
    }
  }

  // ---- the recovery policy, applied ------------------------------------------------------

  /** Applies lib/backoff's decision for `failure`; `again(stepDown)` resumes playback. */
  private recover(failure: Failure, position: number, again: (stepDown: boolean) => void): void {
    const seq = this.seq;
    const { state, decision } = decide(this.retryState, failure, this.policy, this.random);
    this.retryState = state;
    this.recoveredAt = position;
    this.set({ failures: this.st.failures + 1, position });
    switch (decision.action) {
      case "refresh":
        this.set({ status: "recovering", notice: "Your session expired; renewing it…" });
        void refresh().then((ok) => {
          if (seq !== this.seq) return;
          if (ok) again(false);
          else this.fail(giveUpMessage("unauthorized", 401));
        });
        return;
      case "retry":
        this.set({ status: "recovering", notice: retryNotice(decision) });
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          if (seq === this.seq) again(decision.stepDown);
        }, decision.delayMs);
        return;
      case "give-up":
        this.fail(giveUpMessage(decision.reason, failure.status));
    }
  }

  /** Stops for good with `message`; `retry()` resumes from the same position. */
  private fail(message: string): void {
    const position = this.pendingSeek ?? this.st.position;
    this.hls?.stopLoad();
    this.audio.pause();
    this.wantPlay = false;
    this.pendingSeek = position;
    this.set({ status: "error", error: message, notice: null, paused: true, position });
  }
}
