import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/client";
import type { Analysis, AnalysisAnswer, Job } from "../api/types";
import { afterError, fromAnswer, nextPollMs, pollAnalysis, POLL_MS, SLOW_POLL_MS, type AnalysisView } from "./analysisPoll";

const job = (p: Partial<Job> = {}): Job => ({ id: 7, kind: "analysis", state: "pending", attempts: 0, ...p });
const pending = (p: Partial<Job> = {}): AnalysisAnswer => ({ state: "pending", track_id: "t1", job: job(p) });
const ready: Analysis = {
  state: "ready",
  track_id: "t1",
  version: 1,
  duration_s: 20,
  tempo: { bpm: 120.2, confidence: 0.8 },
  beats: [0.5, 1],
  key: { name: "A minor", tonic: "A", mode: "minor", strength: 0.7, camelot: "8A" },
  loudness_lufs: -14,
  scores: { energy: 0.5, danceability: 0.6, acousticness: 0.1 },
  features: { rms: { mean: [0.1], std: [0.01] } },
  timeline: { step_s: 1, energy: [0.5], chroma: [[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]] },
};

describe("fromAnswer", () => {
  it("maps every state of the route", () => {
    expect(fromAnswer(ready)).toEqual({ phase: "ready", analysis: ready });
    expect(fromAnswer({ state: "not_analysable", track_id: "t1", reason: "silent audio" })).toEqual({
      phase: "not_analysable",
      reason: "silent audio",
    });
    expect(fromAnswer(pending())).toEqual({ phase: "pending", job: job(), retrying: null });
    expect(fromAnswer({ state: "failed", track_id: "t1", job: job({ state: "failed", error: "decode error" }) })).toEqual({
      phase: "failed",
      reason: "decode error",
    });
    expect(fromAnswer({ state: "failed", track_id: "t1", job: job({ state: "failed" }) })).toEqual({ phase: "failed", reason: null });
  });
  it("tells a waiting retry from a first try", () => {
    const v = fromAnswer(pending({ attempts: 2, error: "worker lost its lease" }));
    expect(v).toMatchObject({ phase: "pending", retrying: "worker lost its lease" });
    // A failed attempt whose job is queued again is still coming: the panel keeps polling.
    const again = fromAnswer({ state: "failed", track_id: "t1", job: job({ state: "pending", attempts: 1, error: "timeout" }) });
    expect(again).toMatchObject({ phase: "pending", retrying: "timeout" });
    expect(nextPollMs(again, 1)).toBe(POLL_MS);
  });
  it("treats an unknown answer as an error instead of polling forever", () => {
    expect(fromAnswer({ state: "queued" } as unknown as AnalysisAnswer).phase).toBe("error");
  });
});

describe("afterError and nextPollMs", () => {
  const waiting = fromAnswer(pending());
  it("keeps a pending panel pending through passing failures", () => {
    expect(afterError(waiting, new TypeError("Failed to fetch"))).toBe(waiting);
    expect(afterError(waiting, new ApiError(503, "unavailable", "busy"))).toBe(waiting);
    expect(afterError(waiting, new ApiError(429, "rate_limited", "slow down"))).toBe(waiting);
  });
  it("stops on an unknown track, and on a first request that failed", () => {
    const notFound = new ApiError(404, "not_found", "no such track");
    expect(afterError(waiting, notFound)).toEqual({ phase: "error", error: notFound });
    const offline = new TypeError("Failed to fetch");
    expect(afterError({ phase: "loading" }, offline)).toEqual({ phase: "error", error: offline });
  });
  it("polls only while pending: every few seconds, then slower", () => {
    expect(nextPollMs(waiting, 1)).toBe(POLL_MS);
    expect(POLL_MS).toBeGreaterThanOrEqual(1_000);
    expect(POLL_MS).toBeLessThanOrEqual(5_000);
    expect(nextPollMs(waiting, 100)).toBe(SLOW_POLL_MS);
    const settled: AnalysisView[] = [
      { phase: "ready", analysis: ready },
      { phase: "not_analysable", reason: "silent audio" },
      { phase: "failed", reason: null },
      { phase: "error", error: null },
      { phase: "loading" },
    ];
    for (const v of settled) expect(nextPollMs(v, 1)).toBeNull();
  });
});

describe("pollAnalysis", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  /** A load function answering from `answers` in turn (an Error entry rejects). */
  function script(answers: (AnalysisAnswer | Error)[]) {
    const signals: AbortSignal[] = [];
    const load = vi.fn(async (signal: AbortSignal) => {
      signals.push(signal);
      const a = answers.shift();
      if (!a) throw new Error("asked too often");
      if (a instanceof Error) throw a;
      return a;
    });
    return { load, signals };
  }

  it("polls while pending and stops once ready", async () => {
    const { load } = script([pending(), new TypeError("Failed to fetch"), pending({ state: "processing" }), ready]);
    const views: AnalysisView[] = [];
    pollAnalysis(load, (v) => views.push(v));
    await vi.advanceTimersByTimeAsync(0);
    expect(views.map((v) => v.phase)).toEqual(["pending"]);
    await vi.advanceTimersByTimeAsync(POLL_MS * 3);
    expect(views.map((v) => v.phase)).toEqual(["pending", "pending", "pending", "ready"]);
    expect(load).toHaveBeenCalledTimes(4);
    await vi.advanceTimersByTimeAsync(POLL_MS * 10);
    expect(load).toHaveBeenCalledTimes(4);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("asks once when the answer is already settled", async () => {
    const { load } = script([{ state: "not_analysable", track_id: "t1", reason: "silent audio" }]);
    const views: AnalysisView[] = [];
    pollAnalysis(load, (v) => views.push(v));
    await vi.advanceTimersByTimeAsync(POLL_MS * 5);
    expect(load).toHaveBeenCalledTimes(1);
    expect(views).toEqual([{ phase: "not_analysable", reason: "silent audio" }]);
  });

  it("stops when told to: no timer left, the request aborted, no more views", async () => {
    const { load, signals } = script([pending(), pending(), pending()]);
    const views: AnalysisView[] = [];
    const stop = pollAnalysis(load, (v) => views.push(v));
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBe(1);
    stop();
    expect(vi.getTimerCount()).toBe(0);
    expect(signals[0].aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(POLL_MS * 5);
    expect(load).toHaveBeenCalledTimes(1);
    expect(views).toHaveLength(1);
  });

  it("drops an answer that arrives after stopping", async () => {
    let resolve!: (a: AnalysisAnswer) => void;
    const load = vi.fn(() => new Promise<AnalysisAnswer>((r) => (resolve = r)));
    const views: AnalysisView[] = [];
    const stop = pollAnalysis(load, (v) => views.push(v));
    stop();
    resolve(ready);
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(views).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
