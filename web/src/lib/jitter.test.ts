import { describe, expect, it } from "vitest";
import { OutputClock } from "./clock";
import { CaptureStamper, GROW_STEP_MS, MARGIN_MS, Playout, QualityPolicy, RECOVER_MS, StallWatch } from "./jitter";

describe("Playout", () => {
  it("plays each frame at capture time plus the room delay", () => {
    const p = new Playout(400, 1_000);
    expect(p.place(1_000, 1_001, 1_030)).toEqual({ play: true, atServerMs: 1_400 });
    expect(p.timesGrown).toBe(0);
  });

  it("skips replayed frames whose time has passed without growing the delay", () => {
    const p = new Playout(400, 5_000);
    // Captured 3 s before the join, relayed from the server's ring on join.
    const d = p.place(2_000, 2_001, 5_001);
    expect(d.play).toBe(false);
    expect(p.delayMs).toBe(400);
  });

  it("grows only this guest's delay, in 10 ms steps, when live frames come late", () => {
    const p = new Playout(100, 0);
    // Arrives 145 ms after capture: needs 155 ms, rounded up to 160.
    expect(p.place(1_000, 1_100, 1_145)).toEqual({ play: true, atServerMs: 1_160 });
    expect(p.delayMs).toBe(160);
    expect(p.delayMs % GROW_STEP_MS).toBe(0);
    expect(p.timesGrown).toBe(1);
    // A faster frame later does not shrink it: guests must not jump around.
    p.place(2_000, 2_001, 2_010);
    expect(p.delayMs).toBe(160);
    expect(p.roomDelayMs).toBe(100);
  });

  it("skips a late frame without growing when told the lateness is local", () => {
    const p = new Playout(100, 0);
    expect(p.place(1_000, 1_001, 1_145, false)).toEqual({ play: false, lateByMs: 55 });
    expect(p.delayMs).toBe(100);
    expect(p.timesGrown).toBe(0);
  });

  it("counts the output latency in the margin", () => {
    const p = new Playout(100, 0, MARGIN_MS + 40);
    // 60 ms in transit + 50 ms margin = 110 → 110 ms.
    expect(p.place(1_000, 1_010, 1_060)).toEqual({ play: true, atServerMs: 1_110 });
  });

  it("keeps every guest on the same schedule when their networks are fine", () => {
    const a = new Playout(400, 0);
    const b = new Playout(400, 0);
    for (let i = 0; i < 50; i++) {
      const ts = 10_000 + i * 20;
      const da = a.place(ts, ts + 1, ts + 5);
      const db = b.place(ts, ts + 1, ts + 90); // a slower but adequate path
      expect(da).toEqual(db);
    }
  });
});

describe("QualityPolicy", () => {
  it("steps down when trouble keeps coming, and back up after a clean period", () => {
    const q = new QualityPolicy(3, 10_000, RECOVER_MS);
    expect(q.observe(true, 0)).toBeNull();
    expect(q.observe(false, 100)).toBeNull();
    expect(q.observe(true, 200)).toBeNull();
    expect(q.observe(true, 300)).toBe("low");
    expect(q.current).toBe("low");
    expect(q.observe(true, 400)).toBeNull(); // already low
    expect(q.observe(false, 500)).toBeNull();
    expect(q.observe(false, 500 + RECOVER_MS - 1)).toBeNull();
    expect(q.observe(false, 500 + RECOVER_MS)).toBe("high");
  });

  it("forgets trouble older than its window", () => {
    const q = new QualityPolicy(3, 10_000);
    q.observe(true, 0);
    q.observe(true, 1_000);
    expect(q.observe(true, 20_000)).toBeNull();
    expect(q.current).toBe("high");
  });

  it("restarts the clean clock on trouble while low", () => {
    const q = new QualityPolicy(1, 10_000, 5_000);
    expect(q.observe(true, 0)).toBe("low");
    q.observe(false, 1_000);
    q.observe(true, 4_000);
    expect(q.observe(false, 6_500)).toBeNull();
    expect(q.observe(false, 11_500)).toBe("high");
  });
});

describe("CaptureStamper", () => {
  it("stamps consecutive blocks exactly a block apart despite jittery measurements", () => {
    const s = new CaptureStamper(48_000);
    const stamps: number[] = [];
    for (let k = 0; k < 100; k++) {
      const jitter = (k % 3) - 1; // ±1 ms
      stamps.push(s.stamp(k * 960, 50_000 + k * 20 + jitter));
    }
    for (let k = 1; k < stamps.length; k++) {
      expect(Math.abs(stamps[k] - stamps[k - 1] - 20)).toBeLessThan(0.05);
    }
  });

  it("follows a sound card running slow against the server clock", () => {
    const s = new CaptureStamper(48_000);
    let last = 0;
    // 48 000 frames take 1.001 s of server time (1000 ppm), for 60 s.
    for (let k = 0; k <= 3_000; k++) last = s.stamp(k * 960, k * 20 * 1.001);
    expect(Math.abs(last - 3_000 * 20 * 1.001)).toBeLessThan(2);
  });

  it("jumps when the measured time moves a lot (a clock re-sync)", () => {
    const s = new CaptureStamper(48_000);
    s.stamp(0, 1_000);
    expect(s.stamp(960, 1_020)).toBe(1_020);
    expect(s.stamp(1_920, 1_540)).toBe(1_540);
  });
});

describe("the playout schedule, capture time → context frame", () => {
  it("puts a frame at capture + delay on the output clock, earlier by the device offset", () => {
    const timeOrigin = 1_700_000_000_000;
    const out = new OutputClock(timeOrigin);
    // Context 10 s is heard at performance 12 000 ms (the output runs 2 s behind page time).
    out.update({ contextTime: 10, performanceTime: 12_000, currentTime: 10.04, perfNow: 12_001, outputLatency: 0.03, baseLatency: 0.01 });
    const clockOffset = -25; // this device is 25 ms ahead of the server
    const p = new Playout(400, 0);
    // Captured at server time origin + 11 000 ms; here 30 ms later.
    const ts = timeOrigin + 11_000;
    const d = p.place(ts, ts + 5, ts + 30);
    expect(d).toEqual({ play: true, atServerMs: ts + 400 });
    if (!d.play) return;
    // Heard at server ts+400 = local ts+425 = performance 11 425 → context 9.425 s.
    expect(out.serverToContext(d.atServerMs, clockOffset) * 48_000).toBeCloseTo(9.425 * 48_000, 3);
    // A Bluetooth speaker 150 ms late is fed 150 ms earlier.
    expect(out.serverToContext(d.atServerMs - 150, clockOffset)).toBeCloseTo(9.275, 9);
    // And mapped back, the first sample leaves the speaker at the planned server time.
    expect(out.contextToServer(9.425, clockOffset)).toBeCloseTo(d.atServerMs, 6);
  });
});

describe("StallWatch", () => {
  it("notices a late tick and forgives lateness for a while after it", () => {
    const w = new StallWatch(150, 1_500);
    for (let t = 0; t <= 500; t += 50) w.tick(t);
    expect(w.recent(500)).toBe(false);
    w.tick(900); // 400 ms since the last tick: the page was frozen
    expect(w.recent(900)).toBe(true);
    expect(w.recent(2_399)).toBe(true);
    expect(w.recent(2_400)).toBe(false);
  });
});
