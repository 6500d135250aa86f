import { describe, expect, it } from "vitest";
import { ClockSync, OutputClock, contextToPerfOffset, sampleFromExchange, type OutputReading } from "./clock";

/** A seeded generator, so "random" jitter is the same on every run. */
function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe("sampleFromExchange", () => {
  it("gives offset and round trip without the server's processing time", () => {
    // Server 1000 ms ahead; 10 ms each way; 2 ms inside the server.
    expect(sampleFromExchange(0, 1010, 1012, 22)).toEqual({ offsetMs: 1000, rttMs: 20 });
  });

  it("is biased by half the path asymmetry", () => {
    // 30 ms out, 10 ms back: the offset is off by (30 - 10) / 2.
    expect(sampleFromExchange(0, 1030, 1030, 40).offsetMs).toBe(1010);
  });

  it("never reports a negative round trip", () => {
    expect(sampleFromExchange(0, 5, 10, 1).rttMs).toBe(0);
  });
});

describe("ClockSync", () => {
  it("has no estimate without samples", () => {
    expect(new ClockSync().estimate()).toBeNull();
  });

  it("trusts the fastest exchanges over slow, biased ones", () => {
    const c = new ClockSync();
    for (let i = 0; i < 12; i++) {
      c.add(i % 4 === 0 ? { offsetMs: 500 + i * 0.01, rttMs: 1 } : { offsetMs: 900, rttMs: 80 });
    }
    const e = c.estimate();
    expect(e?.offsetMs).toBeCloseTo(500.04, 9);
    expect(e?.rttMs).toBe(1);
  });

  it("recovers a true offset from jittery, asymmetric exchanges", () => {
    const next = rng(42);
    const trueOffset = -3_217.25; // the server is behind this device
    const c = new ClockSync();
    let local = 10_000;
    for (let i = 0; i < 64; i++) {
      // Base path 2 ms each way; queueing adds up to 40 ms, mostly on the way back.
      const out = 2 + next() * next() * 10;
      const back = 2 + next() * 40;
      const inside = 0.1 + next() * 0.3;
      const t0 = local;
      const recv = t0 + out + trueOffset;
      const send = recv + inside;
      const t1 = send - trueOffset + back;
      c.add(sampleFromExchange(t0, recv, send, t1));
      local = t1 + 5;
    }
    const e = c.estimate();
    expect(e).not.toBeNull();
    // A naive mean would be biased by ~10 ms; the fastest quarter is within a millisecond or two.
    expect(Math.abs((e?.offsetMs ?? 0) - trueOffset)).toBeLessThan(2.5);
    expect(e?.rttMs).toBeLessThan(12);
  });

  it("leaves out exchanges in the fastest quarter that were still slow", () => {
    const c = new ClockSync();
    // A busy machine: 4 quick exchanges, 4 slow-but-not-slowest biased ones, 8 very slow.
    for (let i = 0; i < 4; i++) c.add({ offsetMs: 0.2 * i, rttMs: 1 + 0.1 * i });
    for (let i = 0; i < 4; i++) c.add({ offsetMs: 20, rttMs: 30 });
    for (let i = 0; i < 8; i++) c.add({ offsetMs: 50, rttMs: 90 });
    // The quarter is the 4 quick ones anyway; with 32 samples it would take 8, the slow 4 too.
    for (let i = 0; i < 16; i++) c.add({ offsetMs: 50, rttMs: 90 });
    const e = c.estimate();
    expect(e?.offsetMs).toBeLessThan(1);
    expect(e?.rttMs).toBeLessThan(2);
  });

  it("forgets old samples so it follows a clock that moved", () => {
    const c = new ClockSync(8);
    for (let i = 0; i < 8; i++) c.add({ offsetMs: 100, rttMs: 1 });
    for (let i = 0; i < 8; i++) c.add({ offsetMs: 250, rttMs: 3 });
    expect(c.size).toBe(8);
    expect(c.estimate()?.offsetMs).toBe(250);
  });

  it("ignores non-finite samples", () => {
    const c = new ClockSync();
    c.add({ offsetMs: Number.NaN, rttMs: 1 });
    expect(c.size).toBe(0);
  });
});

describe("OutputClock", () => {
  const reading = (over: Partial<OutputReading> = {}): OutputReading => ({
    contextTime: 2,
    performanceTime: 5_000,
    currentTime: 2.04,
    perfNow: 5_002,
    outputLatency: 0.03,
    baseLatency: 0.01,
    ...over,
  });

  it("uses the output timestamp, which already includes the output latency", () => {
    // Context 2 s is heard at performance 5000 ms.
    expect(contextToPerfOffset(reading())).toBe(3_000);
  });

  it("falls back to currentTime plus the latencies when there is no output timestamp", () => {
    // Rendering 2.04 now (5002); heard 40 ms later.
    expect(contextToPerfOffset(reading({ contextTime: 0, performanceTime: 0 }))).toBeCloseTo(5_002 + 40 - 2_040, 9);
  });

  it("maps the server clock to the context clock and back", () => {
    const timeOrigin = 1_700_000_000_000;
    const oc = new OutputClock(timeOrigin);
    oc.update(reading());
    const clockOffset = 250; // server = local + 250
    // Heard at server time S ⇔ local epoch S - 250 ⇔ performance S - 250 - origin.
    const server = timeOrigin + 6_000 + 250;
    const ctx = oc.serverToContext(server, clockOffset);
    expect(ctx).toBeCloseTo(3, 9); // performance 6000 = context 3 s + 3000 ms
    expect(oc.contextToServer(ctx, clockOffset)).toBeCloseTo(server, 6);
  });

  it("follows an output that stalled and moved for good, after two readings", () => {
    const oc = new OutputClock(0, 9);
    for (let i = 0; i < 9; i++) oc.update(reading());
    oc.update(reading({ performanceTime: 5_400 })); // one reading: could be a late callback
    expect(oc.contextToServer(2, 0)).toBe(5_000);
    oc.update(reading({ performanceTime: 5_400.5 })); // a second one agrees: the output moved
    expect(oc.contextToServer(2, 0)).toBeCloseTo(5_400.5, 6);
  });

  it("takes the median reading, so one late callback does not move playout", () => {
    const oc = new OutputClock(0, 5);
    for (const late of [0, 0, 9, 0, 0]) oc.update(reading({ performanceTime: 5_000 + late }));
    expect(oc.contextToServer(2, 0)).toBe(5_000);
  });
});
