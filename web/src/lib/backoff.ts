// Error recovery for playback, as a pure state machine: given what failed (an HTTP status, or
// 0 for a network failure) and the history so far, decide whether to retry (after how long,
// at a lower quality?), refresh the session first, or give up with a human message. The
// engine owns the timers and the media element; this module owns the policy.

/** How hard to try. Delays are exponential with multiplicative jitter, capped. */
export interface RetryPolicy {
  /** Delay before the first retry. */
  baseMs: number;
  /** Growth per retry. */
  factor: number;
  /** Longest nominal delay. */
  capMs: number;
  /** ± fraction of the delay, so many players that failed together do not retry together. */
  jitter: number;
  /** Retries before giving up (a 401's token refresh does not count). */
  maxRetries: number;
  /** Failures in a row at one quality before stepping down a tier. */
  stepDownAfter: number;
}

/** 0.5, 1, 2, 4, 4 s (±20 %), then give up: about 11 s of trying before the Retry button. */
export const DEFAULT_POLICY: RetryPolicy = {
  baseMs: 500,
  factor: 2,
  capMs: 4000,
  jitter: 0.2,
  maxRetries: 5,
  stepDownAfter: 2,
};

/**
 * The delay before retry number `retry` (0-based): `min(cap, base·factor^retry)` scaled by a
 * random factor in [1 − jitter, 1 + jitter]. `random` returns [0, 1) like Math.random.
 */
export function backoffDelay(
  retry: number,
  policy: RetryPolicy = DEFAULT_POLICY,
  random: () => number = Math.random,
): number {
  const nominal = Math.min(policy.capMs, policy.baseMs * policy.factor ** Math.max(0, retry));
  const scale = 1 - policy.jitter + 2 * policy.jitter * random();
  return Math.round(nominal * scale);
}

/** What recovery remembers between failures of one track (reset once playback is healthy). */
export interface RetryState {
  /** Retries made so far. */
  retries: number;
  /** Failures in a row at the current quality. */
  failuresAtQuality: number;
  /** Whether the session was already refreshed for this run of failures. */
  refreshed: boolean;
}

export const FRESH: RetryState = { retries: 0, failuresAtQuality: 0, refreshed: false };

/** One failure: the HTTP status behind it (0: no answer), and whether a lower tier exists. */
export interface Failure {
  status: number;
  canStepDown: boolean;
}

export type GiveUpReason = "exhausted" | "unauthorized" | "forbidden" | "not-found";

export type RetryDecision =
  /** Wait `delayMs`, then try again (one tier lower when `stepDown`). `attempt` is 1-based. */
  | { action: "retry"; delayMs: number; stepDown: boolean; attempt: number }
  /** Refresh the session, then try again at once at the same position. */
  | { action: "refresh" }
  /** Stop and tell the user (with a Retry button). */
  | { action: "give-up"; reason: GiveUpReason };

/** Decides what to do about `failure`; returns the new state with the decision. */
export function decide(
  state: RetryState,
  failure: Failure,
  policy: RetryPolicy = DEFAULT_POLICY,
  random: () => number = Math.random,
): { state: RetryState; decision: RetryDecision } {
  const { status } = failure;
  if (status === 401) {
    // An expired token: one refresh per run of failures; a second 401 means the session is over.
    if (!state.refreshed) return { state: { ...state, refreshed: true }, decision: { action: "refresh" } };
    return { state, decision: { action: "give-up", reason: "unauthorized" } };
  }
  if (status === 403) return { state, decision: { action: "give-up", reason: "forbidden" } };
  if (status === 404) return { state, decision: { action: "give-up", reason: "not-found" } };
  if (state.retries >= policy.maxRetries) {
    return { state, decision: { action: "give-up", reason: "exhausted" } };
  }
  let failuresAtQuality = state.failuresAtQuality + 1;
  const stepDown = failure.canStepDown && failuresAtQuality >= policy.stepDownAfter;
  if (stepDown) failuresAtQuality = 0;
  const delayMs = backoffDelay(state.retries, policy, random);
  return {
    state: { ...state, retries: state.retries + 1, failuresAtQuality },
    decision: { action: "retry", delayMs, stepDown, attempt: state.retries + 1 },
  };
}

/** The message shown when playback stops for good, by reason and the last HTTP status. */
export function giveUpMessage(reason: GiveUpReason, status: number): string {
  switch (reason) {
    case "unauthorized":
      return "Your session has expired. Sign in again to keep listening.";
    case "forbidden":
      return "Your account is not allowed to play this track.";
    case "not-found":
      return "This track is no longer in the library.";
    case "exhausted":
      if (status === 0) return "Can't reach the server. Check your connection, then press Retry.";
      if (status === 429) return "The server is busy right now. Wait a moment, then press Retry.";
      if (status >= 500) return `The server could not stream this track (error ${status}). Press Retry to try again.`;
      if (status >= 400) return `The server refused this stream (error ${status}). Press Retry to try again.`;
      return "This track could not be played. Press Retry to try again.";
  }
}

/** The transient message while a retry is pending. */
export function retryNotice(decision: { delayMs: number; stepDown: boolean; attempt: number }): string {
  const secs = Math.max(1, Math.round(decision.delayMs / 1000));
  const lower = decision.stepDown ? " at a lower quality" : "";
  return `Playback interrupted. Retrying${lower} in ${secs} s (attempt ${decision.attempt})…`;
}
