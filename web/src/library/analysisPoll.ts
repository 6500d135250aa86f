// What the track page's analysis panel shows, as a pure state machine over the answers of
// `GET /api/tracks/{id}/analysis`: `pending` is polled until it becomes ready, not analysable
// or failed (a `failed` answer whose job is queued for another attempt counts as pending); a
// failed poll while pending is retried (the answer is not lost), anything else stops. useAnalysis runs it with timers; the decisions are here, unit-tested.
import { ApiError } from "../api/client";
import type { Analysis, AnalysisAnswer, Job } from "../api/types";

export type AnalysisView =
  | { phase: "loading" }
  /** Queued or running. `retrying`: an earlier attempt failed and a retry waits. */
  | { phase: "pending"; job: Job | null; retrying: string | null }
  | { phase: "ready"; analysis: Analysis }
  | { phase: "not_analysable"; reason: string }
  /** The analysis job failed; `reason` is its error when the server gave one. */
  | { phase: "failed"; reason: string | null }
  /** The request itself failed (unknown track, no connection, …). */
  | { phase: "error"; error: unknown };

/** Polling interval while pending: every few seconds for the first minute, then slower. */
export const POLL_MS = 3_000;
export const SLOW_POLL_MS = 10_000;
const FAST_POLLS = 20;

/** The view for one answer of the analysis route. */
export function fromAnswer(a: AnalysisAnswer): AnalysisView {
  switch (a?.state) {
    case "ready":
      return { phase: "ready", analysis: a };
    case "not_analysable":
      return { phase: "not_analysable", reason: a.reason || "unknown reason" };
    case "pending":
      return { phase: "pending", job: a.job ?? null, retrying: a.job?.error || null };
    case "failed":
      // A failed attempt whose job is queued again is still on its way: keep asking.
      if (a.job?.state === "pending" || a.job?.state === "processing") {
        return { phase: "pending", job: a.job, retrying: a.job.error || "an earlier attempt failed" };
      }
      return { phase: "failed", reason: a.job?.error || null };
    default:
      return { phase: "error", error: new Error(`unexpected analysis answer: ${JSON.stringify(a)?.slice(0, 200)}`) };
  }
}

/** Whether a failed request is worth repeating (no connection, a busy or failing server). */
function transient(e: unknown): boolean {
  if (!(e instanceof ApiError)) return true; // fetch failed: no connection
  return e.status === 408 || e.status === 429 || e.status >= 500;
}

/**
 * The view after a request failed: while pending, a passing failure keeps the panel pending
 * (the next poll may succeed); otherwise — or for an unknown track — it is an error.
 */
export function afterError(prev: AnalysisView, e: unknown): AnalysisView {
  if (prev.phase === "pending" && transient(e)) return prev;
  return { phase: "error", error: e };
}

/** Milliseconds until the next poll after the `polls`-th answer, or null to stop polling. */
export function nextPollMs(view: AnalysisView, polls: number): number | null {
  if (view.phase !== "pending") return null;
  return polls < FAST_POLLS ? POLL_MS : SLOW_POLL_MS;
}

/**
 * Asks `load` for the analysis, reports each view to `onView`, and asks again while it is
 * pending. The returned function stops it: the request in flight is aborted, no timer is left
 * and `onView` is not called again (the panel unmounting).
 */
export function pollAnalysis(load: (signal: AbortSignal) => Promise<AnalysisAnswer>, onView: (v: AnalysisView) => void): () => void {
  const ctl = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let view: AnalysisView = { phase: "loading" };
  let polls = 0;
  const tick = async () => {
    timer = undefined;
    try {
      const answer = await load(ctl.signal);
      if (ctl.signal.aborted) return;
      view = fromAnswer(answer);
    } catch (e) {
      if (ctl.signal.aborted) return;
      view = afterError(view, e);
    }
    onView(view);
    const wait = nextPollMs(view, ++polls);
    if (wait !== null) timer = setTimeout(tick, wait);
  };
  void tick();
  return () => {
    ctl.abort();
    if (timer !== undefined) clearTimeout(timer);
  };
}
