import { useEffect, useMemo, useRef, useState } from "react";
import { getAlbum } from "../api/library";
import { usePlayer } from "../player";
import { albumStarter, type AlbumPlayMode } from "./albumPlay";
import { humanError } from "./humanError";

export interface AlbumPlay {
  /** Fetches album `id` and plays it in album order ("play") or shuffled. */
  start: (id: string, mode: AlbumPlayMode) => void;
  /** The album (and action) being fetched, for a busy mark. */
  pending: { id: string; mode: AlbumPlayMode } | null;
  /** Why the last start failed, as a sentence. */
  error: string | null;
}

/** Play and Shuffle for album cards, which have no tracks until asked (`albumStarter`). */
export function useAlbumPlay(): AlbumPlay {
  const player = usePlayer();
  // The starter outlives renders (it remembers the latest request); the player it calls is
  // read at answer time.
  const playerRef = useRef(player);
  useEffect(() => {
    playerRef.current = player;
  });
  const starter = useMemo(
    () =>
      albumStarter({
        fetchTracks: async (id) => (await getAlbum(id)).tracks,
        play: (tracks) => playerRef.current.playQueue(tracks, 0),
      }),
    [],
  );
  const [pending, setPending] = useState<AlbumPlay["pending"]>(null);
  const [error, setError] = useState<string | null>(null);
  const start = (id: string, mode: AlbumPlayMode) => {
    setError(null);
    setPending({ id, mode });
    starter(id, mode).then(
      (result) => {
        if (result === "stale") return; // the later start clears the mark
        setPending(null);
        if (result === "empty") setError("This album has no tracks to play.");
      },
      (e) => {
        setPending(null);
        setError(humanError(e, "this album"));
      },
    );
  };
  return { start, pending, error };
}
