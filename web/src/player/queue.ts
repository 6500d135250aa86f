// The play queue as pure data: a list of entries (a track may appear twice, so each entry has
// its own key for lists and removal) and the index of the one playing. Every operation returns
// a new queue; the player loads whatever `current` becomes.
import type { Track } from "../api/types";

export interface QueueEntry {
  key: number;
  track: Track;
}

export interface Queue {
  items: readonly QueueEntry[];
  /** The entry playing (or paused); -1 when the queue is empty. */
  index: number;
  /** The key the next added entry gets. */
  nextKey: number;
}

export const EMPTY_QUEUE: Queue = { items: [], index: -1, nextKey: 1 };

function entries(q: Queue, tracks: readonly Track[]): { items: QueueEntry[]; nextKey: number } {
  let nextKey = q.nextKey;
  const items = tracks.map((track) => ({ key: nextKey++, track }));
  return { items, nextKey };
}

/** The entry playing, or null. */
export function currentEntry(q: Queue): QueueEntry | null {
  return q.items[q.index] ?? null;
}

/** The entry after the current one, or null at the end. */
export function upNext(q: Queue): QueueEntry | null {
  return q.index >= 0 ? (q.items[q.index + 1] ?? null) : null;
}

/** Replaces the queue with `tracks`, current at `start` (clamped). */
export function replace(q: Queue, tracks: readonly Track[], start: number): Queue {
  const { items, nextKey } = entries(q, tracks);
  if (items.length === 0) return { items, index: -1, nextKey };
  const index = Math.min(Math.max(0, Math.trunc(start) || 0), items.length - 1);
  return { items, index, nextKey };
}

/** Where `add` puts tracks: right after the current entry, or at the end of the queue. */
export type Placement = "next" | "last";

/**
 * Adds `tracks` after the current entry ("Play next") or at the end ("Add to queue"), in the
 * order given. When nothing is playing (the queue is empty, or `finished`: its last entry has
 * played to the end), the first added entry becomes current and `start` says to load it;
 * otherwise the current entry stays current (paused or not).
 */
export function add(
  q: Queue,
  tracks: readonly Track[],
  placement: Placement,
  finished = false,
): { queue: Queue; start: boolean } {
  if (tracks.length === 0) return { queue: q, start: false };
  const { items: added, nextKey } = entries(q, tracks);
  const at = placement === "next" && q.index >= 0 ? q.index + 1 : q.items.length;
  const items = [...q.items.slice(0, at), ...added, ...q.items.slice(at)];
  const idle = q.index < 0 || (finished && q.index === q.items.length - 1);
  // Idle: `at` is the old length in both placements, so the first added entry plays.
  return idle ? { queue: { items, index: at, nextKey }, start: true } : { queue: { items, index: q.index, nextKey }, start: false };
}

/** Appends `tracks`; an empty queue starts at the first of them. */
export function append(q: Queue, tracks: readonly Track[]): Queue {
  return add(q, tracks, "last").queue;
}

/** Moves to entry `i`; out-of-range indexes leave the queue as it is. */
export function jump(q: Queue, i: number): Queue {
  return i >= 0 && i < q.items.length ? { ...q, index: i } : q;
}

/** The queue moved to the next entry, or null at the end (the player then stops). */
export function next(q: Queue): Queue | null {
  return q.index >= 0 && q.index + 1 < q.items.length ? { ...q, index: q.index + 1 } : null;
}

/** Past this many seconds into a track, "previous" restarts it instead of going back. */
export const RESTART_THRESHOLD_S = 3;

/**
 * What "previous" does at `position` seconds: restart the current track (the usual player
 * behaviour once it has been playing a little, or at the start of the queue), or go back one.
 */
export function previous(q: Queue, position: number): { queue: Queue; restart: boolean } {
  if (q.index <= 0 || position > RESTART_THRESHOLD_S) return { queue: q, restart: true };
  return { queue: { ...q, index: q.index - 1 }, restart: false };
}

/**
 * Removes entry `i`. When it was the current one, the entry that takes its place (or the new
 * last one) becomes current and `currentChanged` is set so the player loads it (or stops, if
 * the queue is now empty).
 */
export function remove(q: Queue, i: number): { queue: Queue; currentChanged: boolean } {
  if (i < 0 || i >= q.items.length) return { queue: q, currentChanged: false };
  const items = q.items.filter((_, j) => j !== i);
  if (i < q.index) return { queue: { ...q, items, index: q.index - 1 }, currentChanged: false };
  if (i > q.index) return { queue: { ...q, items }, currentChanged: false };
  const index = items.length === 0 ? -1 : Math.min(i, items.length - 1);
  return { queue: { ...q, items, index }, currentChanged: true };
}

/**
 * Whether to warm the next track now: once per track, from half-way through. `duration` may be
 * unknown (NaN, Infinity, 0) early on; then the catalog's duration is used.
 */
export function shouldPrefetch(
  position: number,
  duration: number,
  catalogSeconds: number,
  alreadyDone: boolean,
): boolean {
  if (alreadyDone) return false;
  const d = Number.isFinite(duration) && duration > 0 ? duration : catalogSeconds;
  return d > 0 && position >= d / 2;
}
