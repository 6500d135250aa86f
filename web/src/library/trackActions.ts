// The entries of a track row's "⋯" menu. Each entry is a label and what it does to a track;
// `available` hides an entry that cannot work for that track or on this server. Only entries
// that work are listed: "Add to playlist" and "Radio" join this list (with what they need
// added to `TrackActionContext`) once their features exist.
import type { Track } from "../api/types";

/** What the entries act on. */
export interface TrackActionContext {
  player: {
    playNext(tracks: Track[]): void;
    enqueue(tracks: Track[]): void;
  };
}

export interface TrackAction {
  id: string;
  label: string;
  /** Whether the entry is shown for `track` (default: always). */
  available?: (ctx: TrackActionContext, track: Track) => boolean;
  run: (ctx: TrackActionContext, track: Track) => void;
}

export const TRACK_ACTIONS: readonly TrackAction[] = [
  { id: "play-next", label: "Play next", run: (ctx, t) => ctx.player.playNext([t]) },
  { id: "add-to-queue", label: "Add to queue", run: (ctx, t) => ctx.player.enqueue([t]) },
];

/** The entries to show for `track`, in menu order. */
export function trackMenu(
  ctx: TrackActionContext,
  track: Track,
  actions: readonly TrackAction[] = TRACK_ACTIONS,
): TrackAction[] {
  return actions.filter((a) => a.available?.(ctx, track) ?? true);
}
