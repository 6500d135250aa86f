import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FIRST_BURST, PING_GAP_MS, Pinger, RESYNC_MS } from "./pinger";

describe("Pinger", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    // The pinger schedules with window timers; node has them on globalThis.
    vi.stubGlobal("window", globalThis);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it("sends one ping at a time and estimates the offset from the answers", () => {
    const sent: number[] = [];
    let estimate = null as null | { offsetMs: number };
    const p = new Pinger(
      (t) => {
        sent.push(t);
        return true;
      },
      (e) => (estimate = e),
    );
    p.start();
    expect(sent).toHaveLength(1); // the next waits for the answer
    for (let i = 0; i < FIRST_BURST; i++) {
      const t = sent[sent.length - 1];
      // The server's clock is 5 s ahead; answers come back at once.
      p.pong({ clientTime: t, serverReceive: t + 5_000, serverSend: t + 5_000 });
      expect(sent).toHaveLength(i + 1); // the next ping waits a moment…
      vi.advanceTimersByTime(PING_GAP_MS);
    }
    expect(sent).toHaveLength(FIRST_BURST);
    expect(Math.abs((estimate?.offsetMs ?? 0) - 5_000)).toBeLessThan(50);
    p.stop();
  });

  it("moves on when a ping goes unanswered, and ignores malformed pongs", () => {
    const sent: number[] = [];
    const p = new Pinger((t) => (sent.push(t), true), () => {});
    p.start(3);
    p.pong({ clientTime: "nope" });
    p.pong(null);
    expect(sent).toHaveLength(1);
    vi.advanceTimersByTime(1_000);
    expect(sent).toHaveLength(2);
    p.stop();
  });

  it("stops the burst while disconnected, and tries again at the next re-sync", () => {
    let calls = 0;
    const p = new Pinger(() => (calls++, false), () => {});
    p.start();
    expect(calls).toBe(1);
    vi.advanceTimersByTime(RESYNC_MS - 1);
    expect(calls).toBe(1);
    vi.advanceTimersByTime(1);
    expect(calls).toBe(2);
    p.stop();
  });
});
