// Names and messages shared by the page and the room worklets. (The worklet files themselves
// must never be imported by the page: they call registerProcessor, which only exists there.)
import type { StreamFrame, StreamStats } from "./stream";

export const PLAYER_PROCESSOR = "tonearm-room-player";
export const CAPTURE_PROCESSOR = "tonearm-room-capture";

/** Page → player worklet. */
export type PlayerIn = { type: "frame"; frame: StreamFrame } | { type: "clear" };

/** Player worklet → page, a few dozen times a second. */
export interface PlayerStatus {
  type: "status";
  /** Context frame at the end of the last quantum. */
  now: number;
  /** Frames that started since the last status, with the context frame of their sample 0. */
  started: { seq: number; at: number }[];
  bufferedFrames: number;
  /** How far ahead of the render position the last frame arrived (frames; < 0: too late). */
  lead: number | null;
  drift: number | null;
  stats: StreamStats;
}

/** Capture worklet → encoder worker: one block of planar PCM (channel 0, then channel 1…). */
export interface CaptureBlock {
  type: "block";
  /** Context frame of the block's first sample. */
  frame: number;
  channels: number;
  pcm: Float32Array;
}

/** Page → capture worklet. */
export type CaptureIn = { port: MessagePort } | { stop: true };
