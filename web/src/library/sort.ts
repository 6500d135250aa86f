// Sorting the tracks table by a column: stable, natural ("Track 2" before "Track 10"),
// case- and accent-insensitive, unknown values always last, ties broken by album order.
import type { Track } from "../api/types";
import { keyOrder } from "./musicKeys";

/** The columns the table sorts by; each is also a `sort` the server accepts. */
export type SortKey = "title" | "artist" | "album" | "year" | "duration" | "format" | "bpm" | "key" | "energy";
export type SortDir = "asc" | "desc";
export interface Sort {
  key: SortKey;
  dir: SortDir;
}

const collator = new Intl.Collator(undefined, { sensitivity: "base", numeric: true });

type Value = string | number | null;

function value(t: Track, key: SortKey): Value {
  switch (key) {
    case "title":
      return t.title || null;
    case "artist":
      return t.artist || null;
    case "album":
      return t.album || null;
    case "year":
      return t.year;
    case "duration":
      return t.duration_ms;
    case "format":
      return t.codec || null;
    // `?? null`: a server from before the analysis sends no such fields at all.
    case "bpm":
      return t.bpm ?? null;
    case "key":
      // Pitch order, major before minor at each tonic: the order the server sorts by.
      return t.key ? keyOrder(t.key) : null;
    case "energy":
      return t.energy ?? null;
  }
}

function compareValues(a: Value, b: Value): number {
  if (a === null || b === null) return 0; // handled by the caller (nulls last in both directions)
  if (typeof a === "number" && typeof b === "number") return a - b;
  return collator.compare(String(a), String(b));
}

/** Album order: album, disc, track number, title: the order a record plays in. */
export function albumOrder(a: Track, b: Track): number {
  return (
    collator.compare(a.album, b.album) ||
    (a.disc_no ?? 0) - (b.disc_no ?? 0) ||
    (a.track_no ?? 0) - (b.track_no ?? 0) ||
    collator.compare(a.title, b.title)
  );
}

/** A sorted copy of `tracks`; the input is not changed. */
export function sortTracks(tracks: readonly Track[], sort: Sort): Track[] {
  const sign = sort.dir === "asc" ? 1 : -1;
  return tracks
    .map((t, i) => ({ t, i, v: value(t, sort.key) }))
    .sort((x, y) => {
      if (x.v === null && y.v !== null) return 1;
      if (y.v === null && x.v !== null) return -1;
      return sign * compareValues(x.v, y.v) || albumOrder(x.t, y.t) || x.i - y.i;
    })
    .map((e) => e.t);
}

/** Clicking a column: the same column flips direction, a new one starts ascending. */
export function nextSort(current: Sort | null, key: SortKey): Sort {
  if (current?.key === key) return { key, dir: current.dir === "asc" ? "desc" : "asc" };
  return { key, dir: "asc" };
}
