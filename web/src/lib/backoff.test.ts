import { describe, expect, it } from "vitest";
import {
  backoffDelay,
  decide,
  DEFAULT_POLICY,
  FRESH,
  giveUpMessage,
  retryNotice,
  type RetryDecision,
  type RetryState,
} from "./backoff";

const mid = () => 0.5; // no jitter: scale 1
const NET = { status: 0, canStepDown: true };

describe("backoffDelay", () => {
  it("doubles from the base up to the cap", () => {
    expect([0, 1, 2, 3, 4, 5, 10].map((r) => backoffDelay(r, DEFAULT_POLICY, mid))).toEqual([
      500, 1000, 2000, 4000, 4000, 4000, 4000,
    ]);
  });
  it("keeps jitter within ± the policy's fraction", () => {
    for (const retry of [0, 1, 2, 3, 6]) {
      const nominal = Math.min(4000, 500 * 2 ** retry);
      expect(backoffDelay(retry, DEFAULT_POLICY, () => 0)).toBe(Math.round(nominal * 0.8));
      expect(backoffDelay(retry, DEFAULT_POLICY, () => 0.999999)).toBe(Math.round(nominal * 1.2));
      for (let i = 0; i < 200; i++) {
        const d = backoffDelay(retry, DEFAULT_POLICY);
        expect(d).toBeGreaterThanOrEqual(Math.round(nominal * 0.8));
        expect(d).toBeLessThanOrEqual(Math.round(nominal * 1.2));
      }
    }
  });
  it("actually varies (jitter is applied)", () => {
    const seen = new Set(Array.from({ length: 50 }, () => backoffDelay(2)));
    expect(seen.size).toBeGreaterThan(5);
  });
  it("treats a negative retry as the first", () => {
    expect(backoffDelay(-3, DEFAULT_POLICY, mid)).toBe(500);
  });
});

/** Feeds failures through `decide`, collecting decisions. */
function run(failures: { status: number; canStepDown: boolean }[], start: RetryState = FRESH) {
  let state = start;
  const out: RetryDecision[] = [];
  for (const f of failures) {
    const r = decide(state, f, DEFAULT_POLICY, mid);
    state = r.state;
    out.push(r.decision);
  }
  return { state, out };
}

describe("decide", () => {
  it("retries a network failure with the backoff schedule, then gives up", () => {
    const { out } = run(Array(6).fill({ status: 0, canStepDown: false }));
    expect(out.slice(0, 5)).toEqual([
      { action: "retry", delayMs: 500, stepDown: false, attempt: 1 },
      { action: "retry", delayMs: 1000, stepDown: false, attempt: 2 },
      { action: "retry", delayMs: 2000, stepDown: false, attempt: 3 },
      { action: "retry", delayMs: 4000, stepDown: false, attempt: 4 },
      { action: "retry", delayMs: 4000, stepDown: false, attempt: 5 },
    ]);
    expect(out[5]).toEqual({ action: "give-up", reason: "exhausted" });
  });

  it("steps down a tier after two failures in a row at one quality", () => {
    const { out } = run([NET, NET, NET, NET]);
    expect(out.map((d) => d.action === "retry" && d.stepDown)).toEqual([false, true, false, true]);
  });

  it("never steps down when there is no lower tier", () => {
    const { out } = run([
      { status: 503, canStepDown: false },
      { status: 503, canStepDown: false },
      { status: 503, canStepDown: false },
    ]);
    expect(out.every((d) => d.action === "retry" && !d.stepDown)).toBe(true);
  });

  it("refreshes the session once on 401, then retries without spending a retry", () => {
    const first = decide(FRESH, { status: 401, canStepDown: true }, DEFAULT_POLICY, mid);
    expect(first.decision).toEqual({ action: "refresh" });
    expect(first.state.retries).toBe(0);
    const again = decide(first.state, { status: 401, canStepDown: true }, DEFAULT_POLICY, mid);
    expect(again.decision).toEqual({ action: "give-up", reason: "unauthorized" });
  });

  it("still retries other failures after a refresh", () => {
    const { out } = run([{ status: 401, canStepDown: true }, NET]);
    expect(out[1]).toMatchObject({ action: "retry", attempt: 1 });
  });

  it("gives up at once when retrying cannot help", () => {
    expect(decide(FRESH, { status: 404, canStepDown: true }).decision).toEqual({
      action: "give-up",
      reason: "not-found",
    });
    expect(decide(FRESH, { status: 403, canStepDown: true }).decision).toEqual({
      action: "give-up",
      reason: "forbidden",
    });
  });

  it("retries a media error behind a 200, server errors and rate limits", () => {
    for (const status of [200, 500, 503, 429, 409]) {
      expect(decide(FRESH, { status, canStepDown: false }).decision.action).toBe("retry");
    }
  });

  it("does not mutate the state it is given", () => {
    const s = { ...FRESH };
    decide(s, NET);
    expect(s).toEqual(FRESH);
  });
});

describe("messages", () => {
  it("always says something a person can act on", () => {
    expect(giveUpMessage("exhausted", 0)).toMatch(/connection/);
    expect(giveUpMessage("exhausted", 503)).toMatch(/error 503/);
    expect(giveUpMessage("exhausted", 429)).toMatch(/busy/);
    expect(giveUpMessage("exhausted", 200)).toMatch(/could not be played/);
    expect(giveUpMessage("unauthorized", 401)).toMatch(/Sign in/);
    expect(giveUpMessage("not-found", 404)).toMatch(/no longer/);
    expect(giveUpMessage("forbidden", 403)).toMatch(/not allowed/);
  });
  it("announces the retry and the step-down", () => {
    expect(retryNotice({ delayMs: 2100, stepDown: true, attempt: 3 })).toBe(
      "Playback interrupted. Retrying at a lower quality in 2 s (attempt 3)…",
    );
    expect(retryNotice({ delayMs: 400, stepDown: false, attempt: 1 })).toMatch(/in 1 s/);
  });
});
