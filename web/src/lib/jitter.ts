// The listening-room timing rules, free of the DOM so they can be unit-tested.
//
// Sync rule (docs/rooms.md): the sample captured at server time T plays at T + D on the server
// clock, D being the room's delay. Guests that follow it are aligned with each other. A guest
// whose network cannot deliver frames D after capture grows its own D (in 10 ms steps, never
// shrinking) instead of playing late or stuttering, and does not move anybody else.

/** Safety margin a frame must arrive ahead of its play time (decode and hand-off take time). */
export const MARGIN_MS = 10;
/** A grown delay is rounded up to this step, so one slow frame does not nudge it every time. */
export const GROW_STEP_MS = 10;

export type Decision = { play: true; atServerMs: number } | { play: false; lateByMs: number };

/** One guest's playout schedule (the browser twin of crates/tonearm-rooms/src/playout.rs). */
export class Playout {
  private delay: number;
  private grown = 0;

  constructor(
    readonly roomDelayMs: number,
    /**
     * Server time from which relayed frames are live. Earlier ones are the replay burst sent on
     * join: their lateness says nothing about the network, so they never grow the delay.
     */
    public liveFromServerMs: number,
    /**
     * How long before its play time a frame must be here: MARGIN_MS plus whatever the output
     * renders ahead (the audio output latency) and any extra device offset.
     */
    public marginMs = MARGIN_MS,
  ) {
    this.delay = roomDelayMs;
  }

  /**
   * Places a frame captured at `timestamp` (server clock), received by the server at
   * `serverTime`, arriving here at `arrivalServerMs` (local arrival on the server clock).
   * `mayGrow: false` skips a late frame without growing the delay (its lateness is known to be
   * this device's, e.g. the page was frozen, not the network's).
   */
  place(timestamp: number, serverTime: number, arrivalServerMs: number, mayGrow = true): Decision {
    if (mayGrow && serverTime >= this.liveFromServerMs) {
      const needed = arrivalServerMs - timestamp + this.marginMs;
      if (needed > this.delay) {
        this.delay = Math.ceil(needed / GROW_STEP_MS) * GROW_STEP_MS;
        this.grown += 1;
      }
    }
    const at = timestamp + this.delay;
    const earliest = arrivalServerMs + this.marginMs;
    return at < earliest ? { play: false, lateByMs: earliest - at } : { play: true, atServerMs: at };
  }

  /** The delay in force now, ms. */
  get delayMs(): number {
    return this.delay;
  }

  /** How many times the delay had to grow. */
  get timesGrown(): number {
    return this.grown;
  }
}

export type Layer = "high" | "low";

/** Trouble events within this window count towards stepping down. */
export const TROUBLE_WINDOW_MS = 10_000;
/** Trouble events in the window that move a guest to the low layer ("keeps running dry"). */
export const TROUBLE_LIMIT = 3;
/** Clean listening needed before trying the high layer again. */
export const RECOVER_MS = 10_000;

/**
 * Picks a guest's layer from its buffer health: repeated trouble (frames late, dropped, the
 * buffer running dry) moves it to the low layer; RECOVER_MS of clean listening moves it back.
 * Quick down, slow up, so a flaky link does not flap between layers.
 */
export class QualityPolicy {
  private layer: Layer = "high";
  private troubles: number[] = [];
  private cleanSince: number | null = null;

  constructor(
    private readonly limit = TROUBLE_LIMIT,
    private readonly windowMs = TROUBLE_WINDOW_MS,
    private readonly recoverMs = RECOVER_MS,
  ) {}

  get current(): Layer {
    return this.layer;
  }

  /** Reports whether there was trouble at `nowMs`; returns the layer to switch to, if it changes. */
  observe(trouble: boolean, nowMs: number): Layer | null {
    if (trouble) {
      this.cleanSince = null;
      this.troubles.push(nowMs);
      this.troubles = this.troubles.filter((t) => nowMs - t < this.windowMs);
      if (this.layer === "high" && this.troubles.length >= this.limit) {
        this.layer = "low";
        this.troubles = [];
        return "low";
      }
      return null;
    }
    this.cleanSince ??= nowMs;
    if (this.layer === "low" && nowMs - this.cleanSince >= this.recoverMs) {
      this.layer = "high";
      this.cleanSince = nowMs;
      return "high";
    }
    return null;
  }
}

/** Largest gap between a measured capture time and the running stamp that is slewed, not jumped. */
export const STAMP_JUMP_MS = 50;
/** Fraction of the measured error absorbed per block (slew, so stamps stay 20 ms apart). */
export const STAMP_SLEW = 0.02;

/**
 * Stamps captured blocks with server-clock times. Blocks are consecutive samples, so their
 * stamps must advance by exactly their length, or guests would hear gaps and overlaps; yet the
 * sound card's clock drifts from the server's. So each stamp follows the sample count, and is
 * pulled a little towards the measured time (or jumps, after a clock re-sync moved it a lot).
 */
export class CaptureStamper {
  private anchorFrame = 0;
  private anchorMs: number | null = null;

  constructor(private readonly sampleRate = 48_000) {}

  /** The stamp (server ms) of the block starting at context frame `frame`, measured at `measuredMs`. */
  stamp(frame: number, measuredMs: number): number {
    if (this.anchorMs === null) {
      this.anchorFrame = frame;
      this.anchorMs = measuredMs;
      return measuredMs;
    }
    const predicted = this.anchorMs + ((frame - this.anchorFrame) * 1000) / this.sampleRate;
    const err = measuredMs - predicted;
    if (Math.abs(err) > STAMP_JUMP_MS) {
      this.anchorFrame = frame;
      this.anchorMs = measuredMs;
      return measuredMs;
    }
    this.anchorMs += err * STAMP_SLEW;
    return predicted + err * STAMP_SLEW;
  }
}

/** A gap between ticks longer than this (ms) means the page was frozen. */
export const STALL_GAP_MS = 150;
/** For this long after a freeze, late frames are blamed on it (the backlog drains). */
export const STALL_GRACE_MS = 1_500;

/**
 * Notices when this page stopped running for a moment (a busy CPU, a garbage collection): fed
 * by a frequent timer, it reports a freeze when a tick comes late. Frames that miss their time
 * because of a freeze are skipped instead of growing the delay — the sync rule grows the delay
 * for a slow network, and a freeze is over as soon as it is noticed.
 */
export class StallWatch {
  private last: number | null = null;
  private stallEnd = -Infinity;

  constructor(
    private readonly gapMs = STALL_GAP_MS,
    private readonly graceMs = STALL_GRACE_MS,
  ) {}

  tick(nowMs: number): void {
    if (this.last !== null && nowMs - this.last > this.gapMs) this.stallEnd = nowMs;
    this.last = nowMs;
  }

  /** Whether the page was frozen lately. */
  recent(nowMs: number): boolean {
    return nowMs - this.stallEnd < this.graceMs;
  }
}
