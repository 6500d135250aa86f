// The host's encoder, off the main thread: takes 20 ms blocks straight from the capture worklet
// (through a MessagePort), stamps each with its capture time on the server clock, encodes it
// with WebCodecs' AudioEncoder (Opus) once per layer, and hands the packets to the page, which
// sends them as `broadcast:audio`.
import { CaptureStamper, type Layer } from "../../lib/jitter";
import type { CaptureBlock } from "../audio/protocol";

export interface LayerConfig {
  quality: Layer;
  bitrate: number;
}

/** Page → worker. */
export type EncoderIn =
  | { type: "start"; port: MessagePort; sampleRate: number; channels: number; layers: LayerConfig[] }
  /** Server-clock ms of context time 0 at capture: stamp(frame) ≈ frame / rate · 1000 + this. */
  | { type: "clock"; captureOffsetMs: number }
  | { type: "stop" };

/** Worker → page. */
export type EncoderOut =
  | { type: "started"; layers: Layer[] }
  | { type: "chunk"; quality: Layer; data: ArrayBuffer; timestamp: number; duration: number }
  | { type: "error"; message: string };

/** Blocks waiting in an encoder beyond which new ones are dropped (the CPU cannot keep up). */
const MAX_QUEUE = 10;

const post = (m: EncoderOut, transfer: Transferable[] = []) => self.postMessage(m, { transfer });

let sampleRate = 48_000;
let channels = 2;
let captureOffsetMs: number | null = null;
const stamper = new CaptureStamper();
/** Each layer's encoder with the stamps of the blocks it is encoding, oldest first. */
const encoders = new Map<Layer, { enc: AudioEncoder; stamps: number[] }>();
const lastStamp = new Map<Layer, number>();
let port: MessagePort | null = null;

async function configFor(l: LayerConfig): Promise<AudioEncoderConfig | null> {
  const base: AudioEncoderConfig = { codec: "opus", sampleRate, numberOfChannels: channels, bitrate: l.bitrate };
  // 20 ms frames are Opus' default; ask for them explicitly where the browser takes the option.
  for (const cfg of [{ ...base, opus: { frameDuration: 20_000 } }, base]) {
    try {
      if ((await AudioEncoder.isConfigSupported(cfg)).supported) return cfg;
    } catch {
      /* try the next */
    }
  }
  return null;
}

async function start(m: Extract<EncoderIn, { type: "start" }>): Promise<void> {
  if (typeof AudioEncoder === "undefined" || typeof AudioData === "undefined") {
    post({ type: "error", message: "This browser has no WebCodecs AudioEncoder, so it cannot host a room. Use a recent Chrome, Edge or Safari to host; any browser can listen." });
    return;
  }
  sampleRate = m.sampleRate;
  channels = m.channels;
  for (const l of m.layers) {
    const cfg = await configFor(l);
    if (!cfg) {
      if (l.quality === "high") {
        post({ type: "error", message: "This browser cannot encode Opus at 48 kHz with WebCodecs, so it cannot host a room." });
        return;
      }
      continue; // the low layer is optional
    }
    const stamps: number[] = [];
    const enc = new AudioEncoder({
      output: (chunk) => {
        const data = new ArrayBuffer(chunk.byteLength);
        chunk.copyTo(data);
        const duration = chunk.duration ? chunk.duration / 1000 : (960 / sampleRate) * 1000;
        // Packets come out in input order, one per block; the encoder's own timestamps only
        // count samples from the first block, so the stamps travel alongside instead.
        const stamp = stamps.shift() ?? (lastStamp.get(l.quality) ?? 0) + duration;
        lastStamp.set(l.quality, stamp);
        post({ type: "chunk", quality: l.quality, data, timestamp: stamp, duration }, [data]);
      },
      error: (e) => post({ type: "error", message: `The ${l.quality} audio encoder failed: ${e.message}` }),
    });
    enc.configure(cfg);
    encoders.set(l.quality, { enc, stamps });
    lastStamp.set(l.quality, 0);
  }
  port = m.port;
  port.onmessage = (e: MessageEvent<CaptureBlock>) => encode(e.data);
  post({ type: "started", layers: [...encoders.keys()] });
}

function encode(b: CaptureBlock): void {
  if (captureOffsetMs === null || encoders.size === 0) return;
  const frames = b.pcm.length / b.channels;
  const stamp = stamper.stamp(b.frame, (b.frame / sampleRate) * 1000 + captureOffsetMs);
  const data = new AudioData({
    format: "f32-planar",
    sampleRate,
    numberOfFrames: frames,
    numberOfChannels: b.channels,
    timestamp: Math.round(stamp * 1000),
    data: b.pcm as Float32Array<ArrayBuffer>,
  });
  for (const { enc, stamps } of encoders.values()) {
    if (enc.state === "configured" && enc.encodeQueueSize < MAX_QUEUE) {
      stamps.push(stamp);
      enc.encode(data);
    }
  }
  data.close();
}

function stop(): void {
  port?.close();
  port = null;
  for (const { enc } of encoders.values()) if (enc.state !== "closed") enc.close();
  encoders.clear();
}

self.onmessage = (e: MessageEvent<EncoderIn>) => {
  const m = e.data;
  if (m.type === "start") void start(m);
  else if (m.type === "clock") captureOffsetMs = m.captureOffsetMs;
  else stop();
};
