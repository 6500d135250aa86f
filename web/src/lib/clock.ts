// Clock maths for listening rooms, kept free of the DOM so it can be unit-tested.
//
// Server clock: NTP style. A client stamps `time:ping` with its own clock; the server answers
// with when it received and sent the pong; the exchanges with the lowest round trip are the
// least disturbed by queueing, so the estimate is the median offset of the fastest quarter
// (the same rule as the reference CLI, crates/tonearm-rooms/src/clock.rs).
//
// Output clock: an AudioContext counts in its own time (`contextTime`, seconds).
// `getOutputTimestamp()` pairs a context time with the `performance.now()` moment that sample
// leaves the speaker, so it already includes the output latency; `OutputClock` turns that pair
// into a mapping between the server clock and the context clock.

/** One ping/pong exchange. */
export interface ClockSample {
  /** server clock − local clock, ms. */
  offsetMs: number;
  /** Round trip minus the server's own processing time, ms. */
  rttMs: number;
}

/** The current estimate of the server clock. */
export interface ClockEstimate {
  /** Add to a local time to get the server time, ms. */
  offsetMs: number;
  /** Mean round trip of the samples the estimate rests on, ms. */
  rttMs: number;
}

/** A sample from the four times of an exchange: local send, server receive, server send, local receive. */
export function sampleFromExchange(t0: number, serverReceive: number, serverSend: number, t1: number): ClockSample {
  return {
    offsetMs: (serverReceive - t0 + (serverSend - t1)) / 2,
    rttMs: Math.max(0, t1 - t0 - (serverSend - serverReceive)),
  };
}

/** Samples remembered; older ones fall out so the estimate follows drift. */
export const CLOCK_WINDOW = 64;

/** Samples slower than fastest × RTT_SPREAD + RTT_SLACK_MS do not count. */
const RTT_SPREAD = 2;
const RTT_SLACK_MS = 1;

/** Keeps recent exchanges and estimates the offset from the fastest of them. */
export class ClockSync {
  private samples: ClockSample[] = [];

  constructor(private readonly window = CLOCK_WINDOW) {}

  add(s: ClockSample): void {
    if (!Number.isFinite(s.offsetMs) || !Number.isFinite(s.rttMs)) return;
    this.samples.push(s);
    if (this.samples.length > this.window) this.samples.shift();
  }

  get size(): number {
    return this.samples.length;
  }

  /**
   * The median offset of the lowest-RTT quarter of the samples (at least one); null if none.
   * Within the quarter, samples whose round trip is far above the fastest one are left out
   * too: an offset is only known to ± half its round trip, and on a busy machine a quarter can
   * mix 1 ms exchanges with 40 ms ones.
   */
  estimate(): ClockEstimate | null {
    if (this.samples.length === 0) return null;
    let best = [...this.samples].sort((a, b) => a.rttMs - b.rttMs);
    best.length = Math.max(1, Math.floor(best.length / 4));
    const limit = best[0].rttMs * RTT_SPREAD + RTT_SLACK_MS;
    best = best.filter((s) => s.rttMs <= limit);
    const rttMs = best.reduce((sum, s) => sum + s.rttMs, 0) / best.length;
    best.sort((a, b) => a.offsetMs - b.offsetMs);
    return { offsetMs: best[Math.floor(best.length / 2)].offsetMs, rttMs };
  }
}

/** This device's clock in epoch ms: monotonic (`performance.now`), anchored to the wall once. */
export function localNow(): number {
  return performance.timeOrigin + performance.now();
}

/** What `AudioContext.getOutputTimestamp()` returns, plus the context's latencies (seconds). */
export interface OutputReading {
  contextTime: number;
  /** `performance.now()` time at which the sample at `contextTime` is heard; 0 if unknown. */
  performanceTime: number;
  /** `ctx.currentTime` and `performance.now()` read together, for the fallback. */
  currentTime: number;
  perfNow: number;
  outputLatency: number;
  baseLatency: number;
}

/**
 * The offset (ms) such that a sample at context time `c` is heard at performance time
 * `c * 1000 + offset`. Uses the output timestamp when the browser gives a usable one, else
 * assumes the sample being rendered now is heard after the base and output latencies.
 */
export function contextToPerfOffset(r: OutputReading): number {
  if (r.performanceTime > 0 && r.contextTime > 0) return r.performanceTime - r.contextTime * 1000;
  return r.perfNow + (r.outputLatency + r.baseLatency) * 1000 - r.currentTime * 1000;
}

/** A mapping that moved by more than this (ms)… */
const MOVED_MS = 10;
/** …according to two consecutive readings this close (ms) is taken at once. */
const MOVED_AGREE_MS = 2;

/**
 * Maps the server clock to a context's clock and back. The context ↔ performance offset is the
 * median of the last few readings (a single reading can be late by a callback period).
 */
export class OutputClock {
  private offsets: number[] = [];

  constructor(
    /** `performance.timeOrigin` of this page. */
    private readonly timeOrigin: number,
    private readonly keep = 9,
  ) {}

  /**
   * Feeds a fresh `getOutputTimestamp()` reading. When the output stalls (the sound card or
   * the browser skipped a beat) the mapping moves for good: two fresh readings that agree with
   * each other but not with the median replace the history at once.
   */
  update(r: OutputReading): void {
    const o = contextToPerfOffset(r);
    if (!Number.isFinite(o)) return;
    const prev = this.offsets[this.offsets.length - 1];
    if (prev !== undefined && Math.abs(o - prev) < MOVED_AGREE_MS && Math.abs(o - this.perfOffset) > MOVED_MS) {
      this.offsets = [prev];
    }
    this.offsets.push(o);
    if (this.offsets.length > this.keep) this.offsets.shift();
  }

  get ready(): boolean {
    return this.offsets.length > 0;
  }

  /** context time (s) → performance time (ms) at which it is heard. */
  private get perfOffset(): number {
    const s = [...this.offsets].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)] ?? 0;
  }

  /** The context time (s) whose sample is heard at server time `serverMs`. */
  serverToContext(serverMs: number, clockOffsetMs: number): number {
    const perf = serverMs - clockOffsetMs - this.timeOrigin;
    return (perf - this.perfOffset) / 1000;
  }

  /** The server time (ms) at which the sample at context time `contextTime` is heard. */
  contextToServer(contextTime: number, clockOffsetMs: number): number {
    return contextTime * 1000 + this.perfOffset + this.timeOrigin + clockOffsetMs;
  }
}
