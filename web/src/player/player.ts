// The player: the engine plus the queue. It decides what plays (next at the end, previous,
// jumps, removals), warms the next track half-way through the current one, remembers the
// user's settings, and publishes one snapshot for the UI (React reads it with
// useSyncExternalStore).
import type { Track } from "../api/types";
import type { QualitySetting } from "../lib/quality";
import { Engine, type EngineState, type StreamPreference } from "./engine";
import * as Q from "./queue";
import { loadSettings, saveSettings } from "./settings";

export interface PlayerSnapshot {
  queue: Q.Queue;
  current: Track | null;
  engine: EngineState;
  /** Queue keys of the entries already warmed (the test hook reads it). */
  prefetched: readonly number[];
}

export class Player {
  readonly engine: Engine;
  private queue: Q.Queue = Q.EMPTY_QUEUE;
  private prefetched: number[] = [];
  private snap: PlayerSnapshot;
  private readonly listeners = new Set<() => void>();

  constructor(engine: Engine = new Engine()) {
    this.engine = engine;
    const s = loadSettings();
    engine.setVolume(s.volume);
    engine.setMuted(s.muted);
    engine.setQuality(s.quality);
    engine.setPreference(s.preference);
    this.snap = this.build();
    engine.subscribe(() => this.onEngine());
    engine.onEnded = () => this.advance();
  }

  getSnapshot = (): PlayerSnapshot => this.snap;

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  // ---- queue ----------------------------------------------------------------------------

  playQueue(tracks: Track[], start: number): void {
    this.queue = Q.replace(this.queue, tracks, start);
    this.loadCurrent(true);
  }

  /** Appends ("Add to queue"); when nothing is playing, the first of `tracks` starts. */
  enqueue(tracks: Track[]): void {
    this.add(tracks, "last");
  }

  /** Inserts right after the current entry ("Play next"); when nothing is playing, it starts. */
  playNext(tracks: Track[]): void {
    this.add(tracks, "next");
  }

  private add(tracks: Track[], placement: Q.Placement): void {
    // Nothing is playing once the queue's last entry has played to the end.
    const finished = this.engine.getState().status === "ended";
    const { queue, start } = Q.add(this.queue, tracks, placement, finished);
    if (queue === this.queue) return;
    this.queue = queue;
    if (start) this.loadCurrent(true);
    else this.publish();
  }

  jump(i: number): void {
    if (i === this.queue.index) {
      this.engine.seek(0);
      this.engine.play();
      return;
    }
    const q = Q.jump(this.queue, i);
    if (q === this.queue) return;
    this.queue = q;
    this.loadCurrent(true);
  }

  remove(i: number): void {
    const { queue, currentChanged } = Q.remove(this.queue, i);
    this.queue = queue;
    if (!currentChanged) return this.publish();
    if (queue.index < 0) this.engine.stop();
    else this.loadCurrent(!this.engine.getState().paused);
    this.publish();
  }

  next(): void {
    const q = Q.next(this.queue);
    if (!q) return;
    this.queue = q;
    this.loadCurrent(true);
  }

  previous(): void {
    const { queue, restart } = Q.previous(this.queue, this.engine.getState().position);
    if (restart) {
      this.engine.seek(0);
      this.engine.play();
      return;
    }
    this.queue = queue;
    this.loadCurrent(true);
  }

  /** At the end of a track: the next one, or stop at the end of the queue. */
  private advance(): void {
    const q = Q.next(this.queue);
    if (!q) return;
    this.queue = q;
    this.loadCurrent(true);
  }

  private loadCurrent(autoplay: boolean): void {
    const entry = Q.currentEntry(this.queue);
    if (entry) this.engine.load(entry.track, { autoplay });
    else this.engine.stop();
    this.publish();
  }

  // ---- transport and settings -------------------------------------------------------------

  play(): void {
    this.engine.play();
  }
  pause(): void {
    this.engine.pause();
  }
  toggle(): void {
    this.engine.toggle();
  }
  seek(seconds: number): void {
    this.engine.seek(seconds);
  }
  seekBy(delta: number): void {
    this.engine.seekBy(delta);
  }
  retry(): void {
    this.engine.retry();
  }
  stop(): void {
    this.queue = Q.EMPTY_QUEUE;
    this.prefetched = [];
    this.engine.stop();
    this.publish();
  }

  setVolume(v: number): void {
    this.engine.setVolume(v);
    this.persist();
  }
  toggleMute(): void {
    this.engine.setMuted(!this.engine.getState().muted);
    this.persist();
  }
  setQuality(q: QualitySetting): void {
    this.engine.setQuality(q);
    this.persist();
  }
  setPreference(p: StreamPreference): void {
    this.engine.setPreference(p);
    this.persist();
  }

  private persist(): void {
    const e = this.engine.getState();
    saveSettings({ volume: e.volume, muted: e.muted, quality: e.quality, preference: e.preference });
  }

  // ---- state ----------------------------------------------------------------------------

  private onEngine(): void {
    this.maybePrefetch();
    this.publish();
  }

  /** Half-way through the current entry, warm the next one (once per entry warmed). */
  private maybePrefetch(): void {
    const cur = Q.currentEntry(this.queue);
    const nxt = Q.upNext(this.queue);
    if (!cur || !nxt) return;
    const e = this.engine.getState();
    if (e.trackId !== cur.track.id || e.status === "loading") return;
    // Keyed by the entry warmed: a track put next ("Play next") after half-way is warmed too.
    const done = this.prefetched.includes(nxt.key);
    if (Q.shouldPrefetch(e.position, e.duration, cur.track.duration_ms / 1000, done)) {
      this.prefetched = [...this.prefetched.slice(-50), nxt.key];
      void this.engine.warm(nxt.track);
    }
  }

  private build(): PlayerSnapshot {
    return {
      queue: this.queue,
      current: Q.currentEntry(this.queue)?.track ?? null,
      engine: this.engine.getState(),
      prefetched: this.prefetched,
    };
  }

  private publish(): void {
    this.snap = this.build();
    for (const l of this.listeners) l();
  }
}
