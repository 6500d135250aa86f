// The host's broadcast: source → capture worklet (20 ms blocks) → encoder worker (Opus, one
// packet per layer) → `broadcast:audio`. Capture times are stamped on the server clock: the
// context time of each block's first sample is mapped through the output clock and the
// ping-measured server offset (minus the render-ahead and capture latency).
import captureUrl from "../audio/capture.worklet.ts?worker&url";
import { CAPTURE_PROCESSOR, type CaptureIn } from "../audio/protocol";
import { OutputClock, type ClockEstimate } from "../../lib/clock";
import type { Layer } from "../../lib/jitter";
import type { EncoderIn, EncoderOut, LayerConfig } from "./encoder.worker";
import { openSource, type OpenSource, type SourceChoice } from "./sources";
import { readOutput } from "../audio/output";

export const SAMPLE_RATE = 48_000;
export const CHANNELS = 2;
export const HIGH_BITRATE = 128_000;
export const LOW_BITRATE = 32_000;
const LAYERS: LayerConfig[] = [
  { quality: "high", bitrate: HIGH_BITRATE },
  { quality: "low", bitrate: LOW_BITRATE },
];

export interface BroadcastState {
  phase: "idle" | "starting" | "live" | "error";
  error: string | null;
  /** What is on air. */
  label: string | null;
  framesSent: number;
  /** High layer, kbps over the last second, as sent. */
  sentKbps: number;
  /** Refusals from the server (`broadcast:error`), with the last message. */
  refused: number;
  lastRefusal: string | null;
  /** The element playing a file or track, for play/pause controls. */
  element: HTMLAudioElement | null;
  monitor: boolean;
}

export const IDLE_BROADCAST: BroadcastState = {
  phase: "idle",
  error: null,
  label: null,
  framesSent: 0,
  sentKbps: 0,
  refused: 0,
  lastRefusal: null,
  element: null,
  monitor: false,
};

/** Why this browser cannot host, or null if it can. */
export function hostingUnsupported(): string | null {
  if (typeof AudioEncoder === "undefined") {
    return "This browser has no WebCodecs AudioEncoder, so it cannot host a room. Use a recent Chrome, Edge or Safari to host; any browser can listen.";
  }
  if (typeof AudioWorkletNode === "undefined") return "This browser has no AudioWorklet, so it cannot host a room.";
  if (typeof Worker === "undefined") return "This browser cannot run workers, so it cannot host a room.";
  return null;
}

export interface BroadcasterDeps {
  roomId: string;
  /** Sends a Socket.IO event (false: not connected, nothing sent). */
  emit(event: string, payload: unknown): boolean;
  clock(): ClockEstimate | null;
  onChange(s: BroadcastState): void;
}

export class Broadcaster {
  private state: BroadcastState = IDLE_BROADCAST;
  private ctx: AudioContext | null = null;
  private source: OpenSource | null = null;
  private capture: AudioWorkletNode | null = null;
  private worker: Worker | null = null;
  private timer: number | null = null;
  private out: OutputClock | null = null;
  private framesSent = 0;
  private bytesThisSecond = 0;
  private secondStart = 0;
  /** Bumped by every start/stop, so a start that finishes after a stop cleans up after itself. */
  private run = 0;

  constructor(private readonly deps: BroadcasterDeps) {}

  get snapshot(): BroadcastState {
    return this.state;
  }

  private set(patch: Partial<BroadcastState>): void {
    this.state = { ...this.state, ...patch };
    this.deps.onChange(this.state);
  }

  /** Opens the source and goes on air. Errors end up in the state as human messages. */
  async start(choice: SourceChoice, monitor: boolean): Promise<void> {
    const why = hostingUnsupported();
    if (why) return this.set({ phase: "error", error: why });
    if (!this.deps.clock()) return this.set({ phase: "error", error: "Still syncing with the server's clock; try again in a moment." });
    this.teardown();
    const run = ++this.run;
    this.set({ ...IDLE_BROADCAST, phase: "starting", monitor });
    try {
      const ctx = new AudioContext({ sampleRate: SAMPLE_RATE, latencyHint: "interactive" });
      this.ctx = ctx;
      await ctx.resume();
      const source = await openSource(ctx, choice);
      if (run !== this.run) return source.stop();
      this.source = source;
      await ctx.audioWorklet.addModule(captureUrl);
      if (run !== this.run) return;
      const capture = new AudioWorkletNode(ctx, CAPTURE_PROCESSOR, {
        numberOfInputs: 1,
        numberOfOutputs: 1,
        outputChannelCount: [1],
        channelCount: CHANNELS,
        channelCountMode: "explicit",
        channelInterpretation: "speakers",
        processorOptions: { channels: CHANNELS, blockFrames: (SAMPLE_RATE * 20) / 1000 },
      });
      this.capture = capture;
      source.node.connect(capture);
      // The worklet outputs silence; connecting it keeps it pulled by the graph.
      capture.connect(ctx.destination);
      if (monitor) source.node.connect(ctx.destination);
      source.onEnded(() => {
        if (run === this.run) this.stop("The shared audio ended.");
      });

      const worker = new Worker(new URL("./encoder.worker.ts", import.meta.url), { type: "module" });
      this.worker = worker;
      worker.onmessage = (e: MessageEvent<EncoderOut>) => this.onEncoder(e.data, run);
      worker.onerror = (e) => this.fail(`The audio encoder stopped: ${e.message || "worker error"}`);
      this.out = new OutputClock(performance.timeOrigin);
      this.tick();
      this.deps.emit("broadcast:start", {
        roomId: this.deps.roomId,
        audioConfig: {
          sampleRate: SAMPLE_RATE,
          channels: CHANNELS,
          codec: "opus",
          bitrate: HIGH_BITRATE,
          frameMs: 20,
          lowBitrate: LOW_BITRATE,
        },
      });
      const channel = new MessageChannel();
      const hand: CaptureIn = { port: channel.port1 };
      capture.port.postMessage(hand, [channel.port1]);
      const start: EncoderIn = { type: "start", port: channel.port2, sampleRate: SAMPLE_RATE, channels: CHANNELS, layers: LAYERS };
      worker.postMessage(start, [channel.port2]);
      this.timer = window.setInterval(() => this.tick(), 500);
      this.secondStart = performance.now();
      this.framesSent = 0;
      this.set({ phase: "live", label: source.label, element: source.element });
    } catch (e) {
      if (run !== this.run) return;
      this.fail(e instanceof Error ? e.message : String(e));
    }
  }

  /** Tells the encoder how context time maps to server-clock capture time. */
  private tick(): void {
    const ctx = this.ctx;
    const est = this.deps.clock();
    if (!ctx || !this.out || !est || !this.worker) return;
    const r = readOutput(ctx);
    this.out.update(r);
    const renderAheadMs = (r.outputLatency + r.baseLatency) * 1000;
    const inputMs = (this.source?.inputLatency ?? 0) * 1000;
    // Server time at which context time 0 was captured: heard-time mapping, minus how far the
    // context renders ahead of the speaker, minus the capture latency.
    const captureOffsetMs = this.out.contextToServer(0, est.offsetMs) - renderAheadMs - inputMs;
    const msg: EncoderIn = { type: "clock", captureOffsetMs };
    this.worker.postMessage(msg);
  }

  private onEncoder(m: EncoderOut, run: number): void {
    if (run !== this.run) return;
    if (m.type === "error") return this.fail(m.message);
    if (m.type !== "chunk") return;
    const sent = this.deps.emit("broadcast:audio", {
      roomId: this.deps.roomId,
      data: m.data,
      timestamp: m.timestamp,
      duration: m.duration,
      quality: m.quality,
    });
    if (!sent || m.quality !== ("high" satisfies Layer)) return;
    this.framesSent += 1;
    this.bytesThisSecond += m.data.byteLength;
    const now = performance.now();
    // Repaint once a second, not at the frame rate: the page has better things to do.
    if (now - this.secondStart >= 1000) {
      const sentKbps = Math.round((this.bytesThisSecond * 8) / (now - this.secondStart));
      this.bytesThisSecond = 0;
      this.secondStart = now;
      this.set({ framesSent: this.framesSent, sentKbps });
    }
  }

  /** A `broadcast:error` from the server. */
  refused(message: string): void {
    if (this.state.phase !== "live") return;
    this.set({ refused: this.state.refused + 1, lastRefusal: message });
  }

  private fail(message: string): void {
    this.teardown();
    this.set({ phase: "error", error: message, element: null });
  }

  /** Goes off air (tells the room unless `quiet`); `reason` is shown to the host. */
  stop(reason: string | null = null, quiet = false): void {
    const wasOn = this.state.phase === "live" || this.state.phase === "starting";
    this.run++;
    this.teardown();
    if (wasOn && !quiet) this.deps.emit("broadcast:stop", { roomId: this.deps.roomId });
    this.set({ ...IDLE_BROADCAST, error: reason });
  }

  private teardown(): void {
    if (this.timer !== null) window.clearInterval(this.timer);
    this.timer = null;
    if (this.worker) {
      const stop: EncoderIn = { type: "stop" };
      this.worker.postMessage(stop);
      this.worker.terminate();
    }
    this.worker = null;
    const halt: CaptureIn = { stop: true };
    this.capture?.port.postMessage(halt);
    this.capture?.disconnect();
    this.capture = null;
    this.source?.stop();
    this.source = null;
    void this.ctx?.close().catch(() => {});
    this.ctx = null;
    this.out = null;
  }
}
