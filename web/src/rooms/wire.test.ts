import { describe, expect, it } from "vitest";
import { HEADER_LEN, encodeMediaFrame, frameFromEvent, parseMediaFrame, parseNotice, type RoomFrame } from "./wire";

const sample: RoomFrame = {
  quality: "low",
  seq: 2 ** 40,
  timestamp: 1_700_000_000_123.25,
  duration: 20,
  serverTime: 1_700_000_000_130.5,
  data: new Uint8Array([111, 112, 117, 115, 33]),
};

describe("parseMediaFrame", () => {
  it("reads the 30-byte little-endian header and the packet", () => {
    const buf = encodeMediaFrame(sample);
    expect(buf.byteLength).toBe(HEADER_LEN + 5);
    const r = parseMediaFrame(buf);
    expect(r).toEqual({ ok: true, frame: sample });
  });

  it("matches the server's byte layout", () => {
    // version 1, quality 0, seq 7, timestamp 1.5, duration 20, serverTime 2.25, packet [9].
    const bytes = new Uint8Array(31);
    const v = new DataView(bytes.buffer);
    v.setUint8(0, 1);
    v.setUint8(1, 0);
    v.setUint32(2, 7, true);
    v.setFloat64(10, 1.5, true);
    v.setFloat32(18, 20, true);
    v.setFloat64(22, 2.25, true);
    bytes[30] = 9;
    const r = parseMediaFrame(bytes.buffer);
    expect(r.ok && r.frame).toEqual({ quality: "high", seq: 7, timestamp: 1.5, duration: 20, serverTime: 2.25, data: new Uint8Array([9]) });
  });

  it("refuses short, unknown-version and unknown-quality messages", () => {
    const buf = encodeMediaFrame(sample);
    expect(parseMediaFrame(buf.slice(0, HEADER_LEN - 1)).ok).toBe(false);
    const v = new Uint8Array(buf.slice(0));
    v[0] = 9;
    expect(parseMediaFrame(v.buffer)).toEqual({ ok: false, error: "media frame version 9 (this app speaks 1)" });
    v[0] = 1;
    v[1] = 7;
    expect(parseMediaFrame(v.buffer).ok).toBe(false);
  });

  it("never throws on arbitrary bytes", () => {
    let x = 0x9e3779b9;
    const next = () => ((x = (x ^ (x << 13)) >>> 0), (x = (x ^ (x >>> 17)) >>> 0), (x = (x ^ (x << 5)) >>> 0));
    for (let i = 0; i < 2_000; i++) {
      const b = new Uint8Array(next() % 64).map(() => next() & 255);
      if (i % 2) b[0] = 1;
      expect(() => parseMediaFrame(b.buffer)).not.toThrow();
    }
  });
});

describe("parseNotice", () => {
  it("reads the server's notices", () => {
    expect(parseNotice('{"type":"dropped","frames":3}')).toEqual({ type: "dropped", frames: 3 });
    expect(parseNotice('{"type":"stopped"}')).toEqual({ type: "stopped" });
    expect(parseNotice('{"type":"closed","reason":"room closed"}')).toEqual({ type: "closed", reason: "room closed" });
  });

  it("ignores anything else", () => {
    expect(parseNotice("nope")).toBeNull();
    expect(parseNotice('{"type":"quality","quality":"low"}')).toBeNull();
    expect(parseNotice("null")).toBeNull();
  });
});

describe("frameFromEvent", () => {
  it("reads a Socket.IO broadcast:audio payload", () => {
    const data = new Uint8Array([1, 2, 3]).buffer;
    const f = frameFromEvent({ roomId: "r", data, timestamp: 10, duration: 20, quality: "high", seq: 4, serverTime: 12 });
    expect(f).toEqual({ quality: "high", seq: 4, timestamp: 10, duration: 20, serverTime: 12, data: new Uint8Array([1, 2, 3]) });
    expect(frameFromEvent({ data, timestamp: "x" })).toBeNull();
  });
});
