import { describe, expect, it } from "vitest";
import { PlayoutStream, type StreamFrame } from "./stream";

const Q = 128; // a render quantum
const LEN = 960; // a 20 ms frame at 48 kHz

/** A mono frame whose samples are seq + i / 10000, so the output tells which sample played. */
function frame(seq: number, start: number): StreamFrame {
  const a = new Float32Array(LEN);
  for (let i = 0; i < LEN; i++) a[i] = seq + i / 10_000;
  return { seq, start, channels: [a] };
}

/** Renders `quanta` quanta from context frame `from`; returns the output and the next frame. */
function run(s: PlayoutStream, from: number, quanta: number, channels = 1): { out: number[][]; next: number } {
  const out: number[][] = Array.from({ length: channels }, () => []);
  let t = from;
  for (let q = 0; q < quanta; q++) {
    const bufs = Array.from({ length: channels }, () => new Float32Array(Q));
    s.render(bufs, t);
    bufs.forEach((b, c) => out[c].push(...b));
    t += Q;
  }
  return { out, next: t };
}

describe("PlayoutStream", () => {
  it("waits in silence, then plays each frame from its target sample", () => {
    const s = new PlayoutStream();
    s.push(frame(1, 1_000));
    s.push(frame(2, 1_000 + LEN));
    const { out } = run(s, 0, 30);
    expect(out[0][999]).toBe(0);
    expect(out[0][1_000]).toBeCloseTo(1, 6);
    expect(out[0][1_000 + LEN]).toBeCloseTo(2, 6);
    expect(out[0][1_000 + LEN - 1]).toBeCloseTo(1 + (LEN - 1) / 10_000, 6);
    expect(s.started).toEqual([
      { seq: 1, at: 1_000 },
      { seq: 2, at: 1_000 + LEN },
    ]);
    expect(s.stats.played).toBe(2 * LEN);
    expect(s.stats.underruns).toBe(1);
  });

  it("copies a mono frame to every output channel", () => {
    const s = new PlayoutStream();
    s.push(frame(3, 0));
    const { out } = run(s, 0, 1, 2);
    expect(out[1]).toEqual(out[0]);
  });

  it("keeps frames in order whatever order they arrive in, and drops duplicates", () => {
    const s = new PlayoutStream();
    s.push(frame(2, LEN));
    s.push(frame(1, 0));
    s.push(frame(1, 3)); // the same frame again (say, from the other layer)
    run(s, 0, 20);
    expect(s.started.map((f) => f.seq)).toEqual([1, 2]);
  });

  it("drops frames whose time has passed and joins a frame part way through", () => {
    const s = new PlayoutStream();
    s.push(frame(1, 0));
    s.push(frame(2, LEN));
    const { out } = run(s, LEN + 100, 1);
    expect(s.stats.late).toBe(1);
    expect(s.started).toEqual([{ seq: 2, at: LEN }]);
    expect(out[0][0]).toBeCloseTo(2 + 100 / 10_000, 6);
  });

  it("fills a lost frame with silence and stays on schedule", () => {
    const s = new PlayoutStream();
    s.push(frame(1, 0));
    s.push(frame(3, 2 * LEN)); // frame 2 never came
    const { out } = run(s, 0, 23);
    expect(out[0][LEN + 10]).toBe(0);
    expect(out[0][2 * LEN]).toBeCloseTo(3, 6);
    expect(s.started[1]).toEqual({ seq: 3, at: 2 * LEN });
  });

  it("corrects small drift by one sample per quantum, never more", () => {
    const s = new PlayoutStream({ tolerance: 8, jump: 480, maxFrames: 100 });
    // Targets run 40 samples later than back-to-back playback would (the sound card is fast).
    for (let k = 0; k < 10; k++) s.push(frame(k, k * LEN + (k > 0 ? 40 : 0)));
    run(s, 0, 70);
    expect(s.stats.inserted).toBeGreaterThanOrEqual(40 - 8);
    expect(s.stats.inserted).toBeLessThanOrEqual(40);
    expect(s.stats.realigned).toBe(0);
    const d = s.drift(70 * Q);
    expect(d === null || Math.abs(d) <= 8).toBe(true);
  });

  it("catches up by dropping samples when playing late", () => {
    const s = new PlayoutStream({ tolerance: 8, jump: 480, maxFrames: 100 });
    for (let k = 0; k < 10; k++) s.push(frame(k, k * LEN - (k > 0 ? 30 : 0)));
    run(s, 0, 70);
    expect(s.stats.dropped).toBeGreaterThanOrEqual(30 - 8);
    expect(s.stats.dropped).toBeLessThanOrEqual(30);
  });

  it("realigns at once when the targets jump (a clock re-sync)", () => {
    const s = new PlayoutStream({ tolerance: 8, jump: 480, maxFrames: 100 });
    s.push(frame(0, 0));
    s.push(frame(1, LEN + 600));
    const { out } = run(s, 0, 20);
    expect(s.started[1]).toEqual({ seq: 1, at: LEN + 600 });
    expect(out[0][LEN + 300]).toBe(0);
  });

  it("reports how much is buffered ahead", () => {
    const s = new PlayoutStream();
    expect(s.bufferedAhead(0)).toBe(0);
    for (let k = 0; k < 5; k++) s.push(frame(k, 1_000 + k * LEN));
    expect(s.bufferedAhead(0)).toBe(1_000 + 5 * LEN);
    run(s, 0, 10);
    expect(s.bufferedAhead(10 * Q)).toBe(1_000 + 5 * LEN - 10 * Q);
  });

  it("keeps at most maxFrames queued, dropping the oldest", () => {
    const s = new PlayoutStream({ tolerance: 48, jump: 480, maxFrames: 3 });
    for (let k = 0; k < 5; k++) s.push(frame(k, k * LEN));
    run(s, 0, 1);
    expect(s.started[0].seq).toBe(2);
  });
});
