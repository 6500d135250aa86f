// The guest's audio: frames (from the media path or Socket.IO) → the sync rule (Playout) →
// WebCodecs AudioDecoder (Opus) → the player worklet, which renders each frame at the context
// frame where it leaves the speaker at capture time + delay on the server clock.
import playerUrl from "../audio/player.worklet.ts?worker&url";
import { PLAYER_PROCESSOR, type PlayerIn, type PlayerStatus } from "../audio/protocol";
import { readOutput } from "../audio/output";
import { OutputClock, localNow, type ClockEstimate } from "../../lib/clock";
import { MARGIN_MS, Playout, QualityPolicy, StallWatch, type Layer } from "../../lib/jitter";
import type { RoomFrame } from "../wire";
import type { TestHook } from "./hook";

export const SAMPLE_RATE = 48_000;

export interface ListenState {
  phase: "off" | "suspended" | "waiting" | "playing" | "error";
  error: string | null;
  /** Audio queued ahead of the speaker, ms. */
  bufferMs: number;
  /** This guest's delay (the room's, or more if it had to grow). */
  delayMs: number;
  roomDelayMs: number;
  layer: Layer;
  received: number;
  late: number;
  lost: number;
  underruns: number;
  /** Playback vs. schedule, ms (positive: late), once playing. */
  driftMs: number | null;
  volume: number;
  outputOffsetMs: number;
}

export interface PlayerDeps {
  roomDelayMs: number;
  /** Server time from which relayed frames are live (earlier ones are the join replay). */
  liveFromServerMs: number;
  channels: number;
  outputOffsetMs: number;
  hook: TestHook;
  clock(): ClockEstimate | null;
  onChange(s: ListenState): void;
  /** Auto quality wants this layer. */
  onLayer(layer: Layer): void;
}

/** Whether this browser can play room audio; a message for a person if not. */
export function listeningUnsupported(): string | null {
  if (typeof AudioDecoder === "undefined" || typeof EncodedAudioChunk === "undefined") {
    return "This browser has no WebCodecs AudioDecoder, so it cannot play room audio. Use a recent Chrome, Edge, Firefox or Safari.";
  }
  if (typeof AudioWorkletNode === "undefined") return "This browser has no AudioWorklet, so it cannot play room audio.";
  return null;
}

/** A frame handed to the decoder, waiting for its PCM. */
interface Pending {
  seq: number;
  layer: Layer;
  /** When its first sample must leave the speaker, server clock. */
  atServerMs: number;
  /** `performance.now()` when it went into the decoder. */
  sentAt: number;
}

/** Frames in time, in a row, that end the warm-up after a join (two seconds). */
const STEADY_FRAMES = 100;

/** Frames waiting in a decoder beyond which it is taken to be stuck (5 s). */
const STUCK_FRAMES = 250;

/** Repaint at most this often (the worklet reports ~50 times a second). */
const PAINT_MS = 250;

export class GuestPlayer {
  private state: ListenState;
  private ctx: AudioContext | null = null;
  private node: AudioWorkletNode | null = null;
  private gain: GainNode | null = null;
  private out = new OutputClock(performance.timeOrigin);
  /**
   * Each layer's decoder with the frames it is decoding, oldest first. Its output comes back in
   * input order, one AudioData per packet; its timestamps only count samples from the first
   * packet, so they cannot name the frame (a lost frame would shift every later one).
   */
  private decoders = new Map<Layer, { dec: AudioDecoder; pending: Pending[] }>();
  /** Layer of each frame handed to the worklet, until it reports it started. */
  private inWorklet = new Map<number, Layer>();
  private playout: Playout;
  private policy = new QualityPolicy();
  private lastTs = -Infinity;
  private nextSeq = new Map<Layer, number>();
  private toldDropped = 0;
  /** Frames in a row that arrived in time. */
  private inTime = 0;
  /** How long the last frames spent in the decoder, ms. */
  private decodeTimes: number[] = [];
  private counts = { received: 0, late: 0, lost: 0, underruns: 0 };
  /** Frames that reached the worklet after their time (decoded too late on a busy device). */
  private missed = 0;
  private bufferMs = 0;
  private driftMs: number | null = null;
  private lastPaint = 0;
  private timer: number | null = null;
  private stalls = new StallWatch();
  private stallTimer: number | null = null;
  private closed = false;

  constructor(private readonly deps: PlayerDeps) {
    this.playout = new Playout(deps.roomDelayMs, deps.liveFromServerMs);
    const error = listeningUnsupported();
    this.state = {
      phase: error ? "error" : "off",
      error,
      bufferMs: 0,
      delayMs: deps.roomDelayMs,
      roomDelayMs: deps.roomDelayMs,
      layer: "high",
      received: 0,
      late: 0,
      lost: 0,
      underruns: 0,
      driftMs: null,
      volume: 1,
      outputOffsetMs: deps.outputOffsetMs,
    };
    deps.hook.delayMs = deps.roomDelayMs;
  }

  get snapshot(): ListenState {
    return this.state;
  }

  private set(patch: Partial<ListenState>): void {
    this.state = { ...this.state, ...patch };
    this.deps.onChange(this.state);
  }

  /** Counters and levels into the state, at most every PAINT_MS unless `now`. */
  private paint(now = false): void {
    const t = performance.now();
    if (!now && t - this.lastPaint < PAINT_MS) return;
    this.lastPaint = t;
    this.set({ ...this.counts, late: this.counts.late + this.missed, bufferMs: this.bufferMs, driftMs: this.driftMs, delayMs: this.playout.delayMs, phase: this.phase() });
  }

  private phase(): ListenState["phase"] {
    if (this.state.phase === "error") return "error";
    if (!this.ctx || this.closed) return "off";
    if (this.ctx.state !== "running") return "suspended";
    return this.bufferMs > 0 ? "playing" : "waiting";
  }

  /** Builds the audio graph. Resolves with the context suspended if autoplay needs a tap. */
  async start(): Promise<void> {
    if (this.state.phase === "error" || this.ctx) return;
    try {
      const ctx = new AudioContext({ sampleRate: SAMPLE_RATE, latencyHint: "playback" });
      this.ctx = ctx;
      ctx.onstatechange = () => this.paint(true);
      await ctx.audioWorklet.addModule(playerUrl);
      if (this.closed) return;
      const node = new AudioWorkletNode(ctx, PLAYER_PROCESSOR, { numberOfInputs: 0, numberOfOutputs: 1, outputChannelCount: [2] });
      node.port.onmessage = (e: MessageEvent<PlayerStatus>) => this.onStatus(e.data);
      const gain = new GainNode(ctx, { gain: this.state.volume });
      node.connect(gain).connect(ctx.destination);
      this.node = node;
      this.gain = gain;
      this.timer = window.setInterval(() => this.readClock(), 250);
      this.stallTimer = window.setInterval(() => this.stalls.tick(performance.now()), 50);
      // Without a user gesture this may stay suspended: the page then offers "Start listening".
      await Promise.race([ctx.resume().catch(() => {}), new Promise((r) => setTimeout(r, 300))]);
      this.readClock();
      this.paint(true);
    } catch (e) {
      this.set({ phase: "error", error: `Room audio could not start: ${e instanceof Error ? e.message : String(e)}` });
    }
  }

  /** Resumes the context after a tap (autoplay policy). */
  async resume(): Promise<void> {
    await this.ctx?.resume().catch(() => {});
    this.readClock();
    this.paint(true);
  }

  private readClock(): void {
    if (!this.ctx || this.ctx.state !== "running") return;
    const r = readOutput(this.ctx);
    this.out.update(r);
    // A frame must be here in time to be decoded and rendered: margin + the usual decoding
    // time + how far the context renders ahead of the speaker + the listener's output offset.
    this.playout.marginMs = MARGIN_MS + this.decodeMs + (r.outputLatency + r.baseLatency) * 1000 + this.state.outputOffsetMs;
  }

  /**
   * A broadcast (re)started: its layers number frames from 0 again, and frames relayed before
   * `liveFromServerMs` are replay. Queued audio stays: it is still on schedule.
   */
  reset(channels: number, liveFromServerMs: number): void {
    if (channels !== this.deps.channels) {
      this.deps.channels = channels;
      for (const { dec } of this.decoders.values()) if (dec.state !== "closed") dec.close();
      this.decoders.clear();
    }
    this.nextSeq.clear();
    this.setLiveFrom(liveFromServerMs);
  }

  /** Frames relayed from `serverMs` on are live (a media path just (re)opened: its replay is not). */
  setLiveFrom(serverMs: number): void {
    if (serverMs > this.playout.liveFromServerMs) this.inTime = 0;
    this.playout.liveFromServerMs = Math.max(this.playout.liveFromServerMs, serverMs);
  }

  /** The media path said this many frames were dropped for us. */
  dropped(frames: number): void {
    this.toldDropped += frames;
    this.trouble(true);
  }

  /** Layer switch: the other layer numbers its frames on its own. */
  layerChanged(layer: Layer): void {
    this.nextSeq.delete(layer);
    this.set({ layer });
  }

  /**
   * Handles one received frame: the sync rule decides on arrival whether it can make its time
   * (late frames from the network grow the delay), then it is decoded — in order, as Opus
   * decoders keep state — and handed to the worklet. A frame whose decoding ran late because
   * this device was busy just misses its slot in the worklet: that is not the network's doing.
   */
  push(f: RoomFrame): void {
    if (this.closed || this.state.phase === "error") return;
    this.deps.hook.framesReceived += 1;
    this.counts.received += 1;
    const expected = this.nextSeq.get(f.quality);
    if (expected !== undefined && f.seq > expected) this.counts.lost += Math.max(0, f.seq - expected - this.toldDropped);
    this.toldDropped = 0;
    this.nextSeq.set(f.quality, f.seq + 1);
    // The same moment from the other layer, after a switch: already on its way.
    if (f.timestamp <= this.lastTs + 0.5) return;
    const est = this.deps.clock();
    // No clock (or no running output) yet: the frame cannot be placed.
    if (!est || !this.out.ready || !this.node) return this.paint();
    const now = performance.now();
    const arrival = localNow() + est.offsetMs;
    const frozen = this.stalls.recent(now);
    const grown = this.playout.timesGrown;
    const d = this.playout.place(f.timestamp, f.serverTime, arrival, !frozen);
    const live = f.serverTime >= this.playout.liveFromServerMs;
    // The warm-up after a join ends early once frames keep arriving in time.
    this.inTime = d.play ? this.inTime + 1 : 0;
    if (!live && this.inTime >= STEADY_FRAMES) this.playout.liveFromServerMs = arrival;
    this.deps.hook.delayMs = this.playout.delayMs;
    this.trouble(live && !frozen && (!d.play || this.playout.timesGrown > grown));
    if (!d.play) {
      // Most of the replay sent on join is past its time, as expected: only live frames count.
      if (live) this.counts.late += 1;
      return this.paint();
    }
    this.lastTs = f.timestamp;
    const dec = this.decoder(f.quality);
    if (!dec) return;
    if (dec.pending.length > STUCK_FRAMES) {
      // Seconds of input and no output: start that layer's decoder afresh.
      dec.dec.close();
      this.decoders.delete(f.quality);
      return;
    }
    try {
      dec.dec.decode(new EncodedAudioChunk({ type: "key", timestamp: Math.round(f.timestamp * 1000), data: f.data }));
      dec.pending.push({ seq: f.seq, layer: f.quality, atServerMs: d.atServerMs, sentAt: now });
    } catch (e) {
      this.set({ error: `A frame could not be decoded: ${e instanceof Error ? e.message : String(e)}` });
    }
    this.paint();
  }

  private decoder(layer: Layer): { dec: AudioDecoder; pending: Pending[] } | null {
    const have = this.decoders.get(layer);
    if (have && have.dec.state === "configured") return have;
    try {
      const pending: Pending[] = [];
      const dec = new AudioDecoder({
        output: (a) => this.onDecoded(a, pending.shift()),
        error: (e) => {
          if (this.decoders.get(layer)?.dec === dec) this.decoders.delete(layer);
          this.set({ error: `The audio decoder failed (${e.message}); it restarts with the next frame.` });
        },
      });
      dec.configure({ codec: "opus", sampleRate: SAMPLE_RATE, numberOfChannels: this.deps.channels });
      const d = { dec, pending };
      this.decoders.set(layer, d);
      return d;
    } catch (e) {
      this.set({ phase: "error", error: `This browser cannot decode the room's Opus audio: ${e instanceof Error ? e.message : String(e)}` });
      return null;
    }
  }

  private onDecoded(a: AudioData, meta: Pending | undefined): void {
    const est = this.deps.clock();
    if (!meta || !est || !this.node || this.closed) return a.close();
    const n = a.numberOfFrames;
    this.deps.hook.decodedSamples += n;
    this.decodeTimes.push(performance.now() - meta.sentAt);
    if (this.decodeTimes.length > 50) this.decodeTimes.shift();
    const channels: Float32Array[] = [];
    for (let c = 0; c < a.numberOfChannels; c++) {
      const plane = new Float32Array(n);
      a.copyTo(plane, { planeIndex: c, format: "f32-planar" });
      channels.push(plane);
    }
    a.close();
    // The speaker must sound it at atServerMs; a device with extra (Bluetooth) delay gets it earlier.
    const start = this.out.serverToContext(meta.atServerMs - this.state.outputOffsetMs, est.offsetMs) * SAMPLE_RATE;
    this.deps.hook.schedule(meta.seq, meta.layer, meta.atServerMs);
    this.inWorklet.set(meta.seq, meta.layer);
    if (this.inWorklet.size > 1_000) this.inWorklet.delete(this.inWorklet.keys().next().value as number);
    const msg: PlayerIn = { type: "frame", frame: { seq: meta.seq, start, channels } };
    this.node.port.postMessage(msg, channels.map((c) => c.buffer));
  }

  /** The usual (median) time a frame spends in the decoder, ms. */
  private get decodeMs(): number {
    const s = [...this.decodeTimes].sort((x, y) => x - y);
    return s[Math.floor(s.length / 2)] ?? 0;
  }

  private onStatus(s: PlayerStatus): void {
    const est = this.deps.clock();
    const hook = this.deps.hook;
    if (est) {
      for (const f of s.started) {
        const heard = this.out.contextToServer(f.at / SAMPLE_RATE, est.offsetMs) + this.state.outputOffsetMs;
        hook.played(f.seq, this.inWorklet.get(f.seq) ?? this.state.layer, heard);
        this.inWorklet.delete(f.seq);
      }
    }
    this.bufferMs = (s.bufferedFrames / SAMPLE_RATE) * 1000;
    this.driftMs = s.drift === null ? null : (s.drift / SAMPLE_RATE) * 1000;
    // Running dry during the warm-up or after a freeze is this page, not the network.
    if (s.stats.underruns > this.counts.underruns && this.inTime >= STEADY_FRAMES && !this.stalls.recent(performance.now())) this.trouble(true);
    this.counts.underruns = s.stats.underruns;
    this.missed = s.stats.late;
    hook.bufferMs = this.bufferMs;
    hook.leadMs = s.lead === null ? null : (s.lead / SAMPLE_RATE) * 1000;
    hook.stream = s.stats;
    this.paint();
  }

  private trouble(bad: boolean): void {
    const next = this.policy.observe(bad, performance.now());
    if (next) {
      this.set({ layer: next });
      this.deps.onLayer(next);
    }
  }

  /** Audio queued ahead of the speaker, ms (what `stats:report` tells the room). */
  get bufferLevelMs(): number {
    return this.bufferMs;
  }

  setVolume(v: number): void {
    if (this.gain) this.gain.gain.value = v;
    this.set({ volume: v });
  }

  /** Extra output delay (e.g. Bluetooth), ms: frames are rendered that much earlier. */
  setOutputOffset(ms: number): void {
    this.set({ outputOffsetMs: ms });
    this.readClock();
  }

  stop(): void {
    this.closed = true;
    if (this.timer !== null) window.clearInterval(this.timer);
    if (this.stallTimer !== null) window.clearInterval(this.stallTimer);
    for (const { dec } of this.decoders.values()) if (dec.state !== "closed") dec.close();
    this.decoders.clear();
    this.node?.disconnect();
    void this.ctx?.close().catch(() => {});
    this.ctx = null;
    this.bufferMs = 0;
    this.paint(true);
  }
}
