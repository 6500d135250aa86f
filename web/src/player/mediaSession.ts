// Media Session API: the OS media keys, lock screen and notification controls drive the
// player, and show what plays (title, artist, album, cover) and where (position state).
import { accessToken } from "../api/client";
import type { Track } from "../api/types";
import type { Player, PlayerSnapshot } from "./player";
import { SEEK_STEP_S } from "./keyboard";
import { coverUrl } from "./urls";

/** The metadata fields for `track` (artwork only when it has a cover). */
export function mediaMetadataInit(track: Track, token: string | null): MediaMetadataInit {
  return {
    title: track.title,
    artist: track.artist,
    album: track.album,
    artwork: track.has_cover
      ? [128, 512].map((size) => ({
          src: coverUrl(track.id, size, token),
          sizes: `${size}x${size}`,
          type: "image/jpeg",
        }))
      : [],
  };
}

/** A position state the API accepts (it throws on position > duration or bad numbers). */
export function positionState(position: number, duration: number): MediaPositionState | null {
  if (!Number.isFinite(duration) || duration <= 0 || !Number.isFinite(position)) return null;
  return { duration, position: Math.min(Math.max(0, position), duration), playbackRate: 1 };
}

/** Connects `player` to the Media Session; returns the function that disconnects it. */
export function bindMediaSession(player: Player): () => void {
  const ms = typeof navigator !== "undefined" ? navigator.mediaSession : undefined;
  if (!ms) return () => {};
  const handlers: [MediaSessionAction, MediaSessionActionHandler][] = [
    ["play", () => player.play()],
    ["pause", () => player.pause()],
    ["previoustrack", () => player.previous()],
    ["nexttrack", () => player.next()],
    ["seekto", (d) => d.seekTime != null && player.seek(d.seekTime)],
    ["seekbackward", (d) => player.seekBy(-(d.seekOffset ?? SEEK_STEP_S))],
    ["seekforward", (d) => player.seekBy(d.seekOffset ?? SEEK_STEP_S)],
  ];
  const set = (h: MediaSessionActionHandler | null) => {
    for (const [action, fn] of handlers) {
      try {
        ms.setActionHandler(action, h && fn);
      } catch {
        /* an action this browser does not support */
      }
    }
  };
  set(() => {});

  let shownTrack: Track | null = null;
  let lastWhole = -1;
  const update = (s: PlayerSnapshot) => {
    if (s.current !== shownTrack) {
      shownTrack = s.current;
      ms.metadata = s.current ? new MediaMetadata(mediaMetadataInit(s.current, accessToken())) : null;
    }
    ms.playbackState = !s.current ? "none" : s.engine.paused ? "paused" : "playing";
    // Once a second is plenty: the OS extrapolates between updates.
    const whole = Math.floor(s.engine.position);
    if (whole !== lastWhole && s.current) {
      lastWhole = whole;
      const p = positionState(s.engine.position, s.engine.duration);
      try {
        if (p) ms.setPositionState(p);
      } catch {
        /* rejected values: skip this update */
      }
    }
  };
  update(player.getSnapshot());
  const off = player.subscribe(() => update(player.getSnapshot()));
  return () => {
    off();
    set(null);
    ms.metadata = null;
    ms.playbackState = "none";
  };
}
