// Keeps this page's estimate of the server clock: a burst of `time:ping`s on join (one at a
// time, so they do not queue behind each other, a little apart), then a smaller burst every few
// seconds so the estimate follows drift and keeps finding quieter moments. The maths is
// ClockSync's (src/lib/clock.ts).
import { ClockSync, localNow, sampleFromExchange, type ClockEstimate } from "../lib/clock";

export const FIRST_BURST = 16;
export const LATER_BURST = 8;
export const RESYNC_MS = 5_000;
/**
 * Pause between a pong and the next ping: spread over a moment, the pings meet different
 * queueing, so the fastest of them are more likely to have met none.
 */
export const PING_GAP_MS = 30;
/** A ping unanswered this long is given up on and the burst moves on. */
const PING_TIMEOUT_MS = 1_000;

export class Pinger {
  private sync = new ClockSync();
  private left = 0;
  private waiting: number | null = null;
  private timeout: number | null = null;
  private periodic: number | null = null;
  private est: ClockEstimate | null = null;

  constructor(
    /** Sends `time:ping {clientTime}`; false when not connected. */
    private readonly send: (clientTime: number) => boolean,
    private readonly onEstimate: (e: ClockEstimate) => void,
  ) {}

  get estimate(): ClockEstimate | null {
    return this.est;
  }

  /** Starts a burst of `n` pings (joining any burst in progress), and the periodic re-sync. */
  start(n = FIRST_BURST): void {
    this.left = Math.max(this.left, n);
    if (this.waiting === null) this.next();
    this.periodic ??= window.setInterval(() => this.start(LATER_BURST), RESYNC_MS);
  }

  private next(): void {
    if (this.left <= 0) return;
    this.left -= 1;
    const t = localNow();
    if (!this.send(t)) {
      this.left = 0;
      return;
    }
    this.waiting = t;
    this.timeout = window.setTimeout(() => {
      this.waiting = null;
      this.next();
    }, PING_TIMEOUT_MS);
  }

  /** A `time:pong` arrived. */
  pong(p: unknown): void {
    const now = localNow();
    if (!p || typeof p !== "object") return;
    const o = p as Record<string, unknown>;
    if (typeof o.clientTime !== "number" || typeof o.serverReceive !== "number" || typeof o.serverSend !== "number") return;
    this.sync.add(sampleFromExchange(o.clientTime, o.serverReceive, o.serverSend, now));
    const e = this.sync.estimate();
    if (e) {
      this.est = e;
      this.onEstimate(e);
    }
    if (o.clientTime === this.waiting) {
      if (this.timeout !== null) window.clearTimeout(this.timeout);
      this.timeout = window.setTimeout(() => {
        this.waiting = null;
        this.next();
      }, PING_GAP_MS);
    }
  }

  stop(): void {
    if (this.timeout !== null) window.clearTimeout(this.timeout);
    if (this.periodic !== null) window.clearInterval(this.periodic);
    this.periodic = null;
    this.waiting = null;
    this.left = 0;
  }
}
