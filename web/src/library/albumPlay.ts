// Playing a whole album (album cards, the album page): its tracks in album order (disc, then
// track number, then title), or all of them shuffled. A card has no tracks yet, so it fetches
// them first; when clicks overlap, the latest one plays and slower earlier answers are dropped.
import type { Track } from "../api/types";
import { shuffle, type Rng } from "../lib/shuffle";
import { albumOrder } from "./sort";

export type AlbumPlayMode = "play" | "shuffle";

/** The album's tracks in the order the record plays (a sorted copy). */
export function inAlbumOrder(tracks: readonly Track[]): Track[] {
  return [...tracks].sort(albumOrder);
}

/** The queue an album action starts: album order, or a shuffle of it drawn with `rng`. */
export function albumQueue(tracks: readonly Track[], mode: AlbumPlayMode, rng: Rng = Math.random): Track[] {
  const ordered = inAlbumOrder(tracks);
  return mode === "shuffle" ? shuffle(ordered, rng) : ordered;
}

export interface AlbumStarterDeps {
  /** The album's tracks (any order). */
  fetchTracks: (albumId: string) => Promise<readonly Track[]>;
  /** Replaces the queue with `tracks` and plays the first. */
  play: (tracks: Track[]) => void;
  /** Default: `Math.random`, looked up at each shuffle. */
  rng?: Rng;
}

/** How a `start` ended: it played, a later `start` superseded it, or the album had no tracks. */
export type StartResult = "played" | "stale" | "empty";

/**
 * `start(id, mode)` fetches the album and plays it. A start superseded by a later one is
 * "stale": its answer (or its failure) is ignored. It rejects when the latest fetch fails.
 */
export function albumStarter({ fetchTracks, play, rng }: AlbumStarterDeps) {
  let latest = 0;
  return async function start(albumId: string, mode: AlbumPlayMode): Promise<StartResult> {
    const mine = ++latest;
    let tracks: readonly Track[];
    try {
      tracks = await fetchTracks(albumId);
    } catch (e) {
      if (mine !== latest) return "stale";
      throw e;
    }
    if (mine !== latest) return "stale";
    if (tracks.length === 0) return "empty";
    play(albumQueue(tracks, mode, rng));
    return "played";
  };
}
