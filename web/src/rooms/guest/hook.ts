// `window.__tonearmRoom`: what this page's room audio is doing, for end-to-end tests (and for
// curious people in the devtools console). Plain numbers and records, so a test can read it
// with `page.evaluate(() => window.__tonearmRoom)`.
//
//   role            "host" | "guest"
//   framesReceived  frames that reached this guest (media path or Socket.IO)
//   decodedSamples  samples per channel the decoder produced
//   playout         { [key]: server-clock ms } for each frame the player started: when its first
//                   sample leaves the speaker, computed from the context frame the worklet
//                   rendered it at, mapped back through the output clock and the clock offset
//                   (plus the listener's output offset). key = seq on the high layer,
//                   "low/<seq>" on the low layer.
//   scheduled       the same, as planned when the frame was decoded (capture time + delay)
//   bufferMs, leadMs (how early the last frame reached the worklet), delayMs, clockOffsetMs, clockRttMs, framesSent (host), stream (worklet counters)
import type { Layer } from "../../lib/jitter";
import type { StreamStats } from "../audio/stream";

/** Frames remembered in `playout` and `scheduled` (about 30 s). */
const KEEP = 1_500;

function keyOf(seq: number, layer: Layer): string {
  return layer === "high" ? String(seq) : `low/${seq}`;
}

function remember(rec: Record<string, number>, order: string[], key: string, value: number): void {
  if (!(key in rec)) order.push(key);
  rec[key] = value;
  while (order.length > KEEP) delete rec[order.shift() as string];
}

export class TestHook {
  role: "host" | "guest" = "guest";
  roomId = "";
  framesReceived = 0;
  decodedSamples = 0;
  framesSent = 0;
  bufferMs = 0;
  /** How far ahead of playback the last decoded frame reached the worklet, ms. */
  leadMs: number | null = null;
  delayMs = 0;
  clockOffsetMs: number | null = null;
  clockRttMs: number | null = null;
  stream: StreamStats | null = null;
  readonly playout: Record<string, number> = {};
  readonly scheduled: Record<string, number> = {};
  private playoutOrder: string[] = [];
  private scheduledOrder: string[] = [];

  schedule(seq: number, layer: Layer, serverMs: number): void {
    remember(this.scheduled, this.scheduledOrder, keyOf(seq, layer), serverMs);
  }

  played(seq: number, layer: Layer, serverMs: number): void {
    remember(this.playout, this.playoutOrder, keyOf(seq, layer), serverMs);
  }
}

declare global {
  interface Window {
    __tonearmRoom?: TestHook;
  }
}

/** Publishes `hook` as `window.__tonearmRoom` (the latest room page wins). */
export function publishHook(hook: TestHook): () => void {
  window.__tonearmRoom = hook;
  return () => {
    if (window.__tonearmRoom === hook) delete window.__tonearmRoom;
  };
}
