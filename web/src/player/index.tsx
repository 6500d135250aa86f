// The player, as the rest of the app sees it: <PlayerProvider> around the signed-in app,
// usePlayer() for the library screens (playQueue, enqueue, playNext, current), and <PlayerBar/>.
//
// One Player (engine + queue) lives for the page. The provider also wires the global keyboard
// shortcuts (Space, ←/→, Shift+←/→, M) and the Media Session, and stops playback on sign-out.
//
// Test hook: the provider sets `window.__tonearmPlayer` = { playQueue, enqueue, player, audio,
// state() }, so end-to-end tests can start playback without the library screens and read the
// engine's state (mode, HLS level, progressive quality, errors). It exposes nothing a signed-in
// page could not already do through the UI.
import {
  createContext,
  useContext,
  useEffect,
  useMemo,
  useState,
  useSyncExternalStore,
  type ReactElement,
  type ReactNode,
} from "react";
import { onSession } from "../api/client";
import type { Track } from "../api/types";
import { describeTarget, keyAction } from "./keyboard";
import { bindMediaSession } from "./mediaSession";
import { Player, type PlayerSnapshot } from "./player";
import { Bar } from "./PlayerBar";
import "./player.css";

export interface PlayerApi {
  /** Replace the queue with `tracks` and start playing `tracks[start]`. */
  playQueue(tracks: Track[], start: number): void;
  /** Append to the queue (starts playing when nothing is playing). */
  enqueue(tracks: Track[]): void;
  /** Insert right after the current track (starts playing when nothing is playing). */
  playNext(tracks: Track[]): void;
  /** The track playing (or paused) now, if any. */
  current: Track | null;
  /** Whether playback is paused (or stopped); false while a track is starting. */
  paused: boolean;
}

/** What end-to-end tests reach through `window.__tonearmPlayer`. */
export interface PlayerTestHook {
  playQueue(tracks: Track[], start: number): void;
  enqueue(tracks: Track[]): void;
  player: Player;
  audio: HTMLAudioElement;
  state(): PlayerSnapshot;
}

declare global {
  interface Window {
    __tonearmPlayer?: PlayerTestHook;
  }
}

const Ctx = createContext<PlayerApi>({ playQueue() {}, enqueue() {}, playNext() {}, current: null, paused: true });
const InstanceCtx = createContext<Player | null>(null);

let shared: Player | null = null;
/** The page's one player (created on first use: it owns an <audio> element). */
function sharedPlayer(): Player {
  shared ??= new Player();
  return shared;
}

/** Binds the shortcuts on the window; returns the unbinding function. */
function bindKeyboard(player: Player): () => void {
  const onKey = (e: KeyboardEvent) => {
    if (e.defaultPrevented || !player.getSnapshot().current) return;
    const action = keyAction({
      key: e.key,
      shiftKey: e.shiftKey,
      ctrlKey: e.ctrlKey,
      metaKey: e.metaKey,
      altKey: e.altKey,
      repeat: e.repeat,
      target: describeTarget(e.target),
    });
    if (!action) return;
    e.preventDefault(); // Space would scroll, arrows would scroll sideways
    switch (action.kind) {
      case "toggle":
        return player.toggle();
      case "seek":
        return player.seekBy(action.by);
      case "next":
        return player.next();
      case "previous":
        return player.previous();
      case "mute":
        return player.toggleMute();
    }
  };
  window.addEventListener("keydown", onKey);
  return () => window.removeEventListener("keydown", onKey);
}

export function PlayerProvider({ children }: { children: ReactNode }): ReactElement {
  const [player] = useState(sharedPlayer);
  // Only what library screens need, so they do not re-render on every time update.
  const current = useSyncExternalStore(player.subscribe, () => player.getSnapshot().current);
  const paused = useSyncExternalStore(player.subscribe, () => player.getSnapshot().engine.paused);
  const api = useMemo<PlayerApi>(
    () => ({
      playQueue: (tracks, start) => player.playQueue(tracks, start),
      enqueue: (tracks) => player.enqueue(tracks),
      playNext: (tracks) => player.playNext(tracks),
      current,
      paused,
    }),
    [player, current, paused],
  );

  useEffect(() => bindKeyboard(player), [player]);
  useEffect(() => bindMediaSession(player), [player]);
  useEffect(
    () =>
      onSession((s) => {
        if (!s) player.stop(); // signed out: silence, and forget the queue
      }),
    [player],
  );
  useEffect(() => {
    window.__tonearmPlayer = {
      playQueue: (tracks, start) => player.playQueue(tracks, start),
      enqueue: (tracks) => player.enqueue(tracks),
      player,
      audio: player.engine.audio,
      state: () => player.getSnapshot(),
    };
    return () => {
      // Leaving the signed-in app (or sign-out) silences the player.
      player.stop();
      delete window.__tonearmPlayer;
    };
  }, [player]);

  return (
    <InstanceCtx.Provider value={player}>
      <Ctx.Provider value={api}>{children}</Ctx.Provider>
    </InstanceCtx.Provider>
  );
}

export function usePlayer(): PlayerApi {
  return useContext(Ctx);
}

/** The bar at the bottom of every signed-in screen (nothing until something is queued). */
export function PlayerBar(): ReactElement | null {
  const player = useContext(InstanceCtx);
  return player ? <Bar player={player} /> : null;
}
