// The guest's playout buffer, as the audio worklet runs it (kept DOM-free for unit tests).
//
// Decoded frames arrive with a target: the context frame at which their first sample must be
// rendered so it leaves the speaker at capture time + delay. Frames are played back to back;
// the gap between where playback is and where the targets say it should be (the drift between
// the sound card, this device's clock and the server's) is corrected by dropping or repeating
// one sample per render quantum — inaudible, unlike a jump. Big disagreements (a lost frame, a
// clock re-sync) realign at once: silence for a gap, a skip for an overlap.

/** A decoded frame and where it belongs on the context's sample clock. */
export interface StreamFrame {
  seq: number;
  /** Context frame (sample index) at which sample 0 should be rendered; may be fractional. */
  start: number;
  /** Planar PCM, one array per channel, all the same length. */
  channels: Float32Array[];
}

export interface StreamOptions {
  /** Drift (samples) tolerated before correcting by a sample per quantum. */
  tolerance: number;
  /** Drift (samples) beyond which playback realigns at once. */
  jump: number;
  /** Most frames kept queued (older ones go first). */
  maxFrames: number;
}

/** 1 ms tolerated; beyond 5 ms (half the 10 ms guests may differ by) realign at once. */
export const DEFAULT_STREAM_OPTIONS: StreamOptions = { tolerance: 48, jump: 240, maxFrames: 600 };

/** Frame `seq` started playing at context frame `at` (where its sample 0 is, or would be). */
export interface StartedFrame {
  seq: number;
  at: number;
}

export interface StreamStats {
  /** Samples of audio rendered (per channel). */
  played: number;
  /** Samples rendered as silence while something was queued or playing (gaps, waits). */
  silent: number;
  /** Samples skipped to catch up. */
  dropped: number;
  /** Samples repeated to wait. */
  inserted: number;
  /** Frames discarded because their time had passed. */
  late: number;
  /** Times the buffer ran dry while playing. */
  underruns: number;
  /** Immediate realignments. */
  realigned: number;
}

export class PlayoutStream {
  private queue: StreamFrame[] = [];
  private cur: StreamFrame | null = null;
  /** Read position in `cur`; negative while waiting for it to start. */
  private pos = 0;
  private playing = false;
  readonly stats: StreamStats = { played: 0, silent: 0, dropped: 0, inserted: 0, late: 0, underruns: 0, realigned: 0 };
  /** Frames started since the caller last emptied this list. */
  started: StartedFrame[] = [];

  constructor(private readonly opt: StreamOptions = DEFAULT_STREAM_OPTIONS) {}

  /** Queues a frame in start order; a frame starting where a queued one does is a duplicate. */
  push(f: StreamFrame): void {
    const len = f.channels[0]?.length ?? 0;
    if (len === 0 || !Number.isFinite(f.start)) return;
    if (this.cur && Math.abs(this.cur.start - f.start) < len / 2) return;
    let i = this.queue.length;
    while (i > 0 && this.queue[i - 1].start > f.start) i--;
    const near = (g: StreamFrame | undefined) => g !== undefined && Math.abs(g.start - f.start) < len / 2;
    if (near(this.queue[i - 1]) || near(this.queue[i])) return;
    this.queue.splice(i, 0, f);
    if (this.queue.length > this.opt.maxFrames) this.queue.shift();
  }

  /** Forgets everything queued and playing. */
  clear(): void {
    this.queue = [];
    this.cur = null;
    this.pos = 0;
    this.playing = false;
  }

  /** Samples queued ahead of context frame `now` (what is left to play). */
  bufferedAhead(now: number): number {
    const last = this.queue.length > 0 ? this.queue[this.queue.length - 1] : this.cur;
    if (!last) return 0;
    return Math.max(0, last.start + last.channels[0].length - now);
  }

  /** Playback position error at context frame `t`: > 0 means playing late. */
  drift(t: number): number | null {
    return this.cur && this.pos >= 0 ? t - (this.cur.start + this.pos) : null;
  }

  /** Fills `out` (one array per output channel) with the samples for context frames `first…`. */
  render(out: Float32Array[], first: number): void {
    const n = out[0]?.length ?? 0;
    this.correct(first);
    let i = 0;
    while (i < n) {
      const t = first + i;
      if (!this.cur) {
        if (!this.take(t, false)) {
          for (const ch of out) ch.fill(0, i);
          if (this.playing) this.stats.underruns += 1;
          this.playing = false;
          return;
        }
        continue;
      }
      if (this.pos < 0) {
        const k = Math.min(-this.pos, n - i);
        for (const ch of out) ch.fill(0, i, i + k);
        this.pos += k;
        i += k;
        this.stats.silent += k;
        continue;
      }
      const src = this.cur.channels;
      const len = src[0].length;
      if (this.pos >= len) {
        this.take(t, true);
        continue;
      }
      const k = Math.min(len - this.pos, n - i);
      out.forEach((ch, c) => ch.set(src[c % src.length].subarray(this.pos, this.pos + k), i));
      this.pos += k;
      i += k;
      this.stats.played += k;
      this.playing = true;
    }
  }

  /** One sample of drift correction per quantum, or a realignment when far off. */
  private correct(t: number): void {
    const e = this.drift(t);
    if (e === null || !this.cur) return;
    if (Math.abs(e) > this.opt.jump) {
      this.pos = Math.round(t - this.cur.start);
      this.stats.realigned += 1;
    } else if (e > this.opt.tolerance) {
      this.pos += 1;
      this.stats.dropped += 1;
    } else if (e < -this.opt.tolerance && this.pos > 0) {
      this.pos -= 1;
      this.stats.inserted += 1;
    }
  }

  /**
   * Moves to the next queued frame at context frame `t`. Continuing from a frame that just
   * ended, a frame that starts where it should (within `jump`) follows seamlessly and any small
   * disagreement is left to `correct`; otherwise playback aligns to the frame's own target.
   */
  private take(t: number, continuing: boolean): boolean {
    const prev = this.cur;
    const carry = prev ? this.pos - prev.channels[0].length : 0;
    this.cur = null;
    for (;;) {
      const head = this.queue.shift();
      if (!head) return false;
      const len = head.channels[0].length;
      const seamless = continuing && prev !== null && Math.abs(head.start - (prev.start + prev.channels[0].length)) <= this.opt.jump;
      const pos = seamless ? carry : Math.round(t - head.start);
      if (pos >= len) {
        this.stats.late += 1;
        continue;
      }
      this.cur = head;
      this.pos = pos;
      this.started.push({ seq: head.seq, at: t - pos });
      return true;
    }
  }
}
