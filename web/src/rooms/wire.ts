// The media path's messages (docs/rooms.md, "The media path"): each binary message is one
// Opus frame behind a 30-byte little-endian header; text messages are JSON notices.

import type { Layer } from "../lib/jitter";

/** Version byte that starts every media frame. */
export const MEDIA_VERSION = 1;
/** version u8, quality u8, seq u64, timestamp f64, duration f32, serverTime f64. */
export const HEADER_LEN = 30;

/** One relayed frame, from either the media path or a Socket.IO `broadcast:audio` event. */
export interface RoomFrame {
  quality: Layer;
  /** Position in the layer (gaps mean lost frames). */
  seq: number;
  /** Capture time of the first sample, server-clock ms. */
  timestamp: number;
  /** Frame length, ms. */
  duration: number;
  /** When the server received it, server-clock ms. */
  serverTime: number;
  /** The Opus packet. */
  data: Uint8Array;
}

export type ParseResult = { ok: true; frame: RoomFrame } | { ok: false; error: string };

/** Parses a binary media-path message; the packet is a view on `buf` (no copy). */
export function parseMediaFrame(buf: ArrayBuffer): ParseResult {
  if (buf.byteLength < HEADER_LEN) {
    return { ok: false, error: `media frame shorter than its ${HEADER_LEN}-byte header` };
  }
  const v = new DataView(buf);
  const version = v.getUint8(0);
  if (version !== MEDIA_VERSION) {
    return { ok: false, error: `media frame version ${version} (this app speaks ${MEDIA_VERSION})` };
  }
  const q = v.getUint8(1);
  if (q > 1) return { ok: false, error: `media frame quality byte ${q} is unknown` };
  return {
    ok: true,
    frame: {
      quality: q === 0 ? "high" : "low",
      seq: Number(v.getBigUint64(2, true)),
      timestamp: v.getFloat64(10, true),
      duration: v.getFloat32(18, true),
      serverTime: v.getFloat64(22, true),
      data: new Uint8Array(buf, HEADER_LEN),
    },
  };
}

/** Builds a media-path message (tests and tools; the server makes the real ones). */
export function encodeMediaFrame(f: RoomFrame): ArrayBuffer {
  const buf = new ArrayBuffer(HEADER_LEN + f.data.byteLength);
  const v = new DataView(buf);
  v.setUint8(0, MEDIA_VERSION);
  v.setUint8(1, f.quality === "high" ? 0 : 1);
  v.setBigUint64(2, BigInt(f.seq), true);
  v.setFloat64(10, f.timestamp, true);
  v.setFloat32(18, f.duration, true);
  v.setFloat64(22, f.serverTime, true);
  new Uint8Array(buf, HEADER_LEN).set(f.data);
  return buf;
}

/** Text notices on the media path. */
export type MediaNotice =
  | { type: "dropped"; frames: number }
  | { type: "stopped" }
  | { type: "closed"; reason: string };

/** Parses a text notice; null for anything this app does not know. */
export function parseNotice(text: string): MediaNotice | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (!v || typeof v !== "object") return null;
  const o = v as Record<string, unknown>;
  switch (o.type) {
    case "dropped":
      return { type: "dropped", frames: typeof o.frames === "number" ? o.frames : 0 };
    case "stopped":
      return { type: "stopped" };
    case "closed":
      return { type: "closed", reason: typeof o.reason === "string" ? o.reason : "" };
    default:
      return null;
  }
}

/** A Socket.IO `broadcast:audio` payload as a RoomFrame; null if it is malformed. */
export function frameFromEvent(p: unknown): RoomFrame | null {
  if (!p || typeof p !== "object") return null;
  const o = p as Record<string, unknown>;
  const data = o.data instanceof ArrayBuffer ? new Uint8Array(o.data) : o.data instanceof Uint8Array ? o.data : null;
  if (!data || typeof o.timestamp !== "number" || typeof o.seq !== "number") return null;
  return {
    quality: o.quality === "low" ? "low" : "high",
    seq: o.seq,
    timestamp: o.timestamp,
    duration: typeof o.duration === "number" ? o.duration : 20,
    serverTime: typeof o.serverTime === "number" ? o.serverTime : o.timestamp,
    data,
  };
}
