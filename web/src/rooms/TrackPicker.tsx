// A library track as the host's source (signed-in users): search, pick one. The stream URL
// carries the access token, since a media element cannot send headers.
import { useEffect, useId, useState } from "react";
import { accessToken, api } from "../api/client";
import type { Page, Track } from "../api/types";

export interface PickedTrack {
  id: string;
  title: string;
  url: string;
}

export function trackStreamUrl(id: string, token: string | null): string {
  const base = `/api/tracks/${encodeURIComponent(id)}/stream`;
  return token ? `${base}?access_token=${encodeURIComponent(token)}` : base;
}

export function TrackPicker({ picked, onPick }: { picked: PickedTrack | null; onPick(t: PickedTrack): void }) {
  const id = useId();
  const [q, setQ] = useState("");
  const [tracks, setTracks] = useState<Track[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let alive = true;
    const t = window.setTimeout(async () => {
      try {
        const page = await api<Page<Track>>(`/api/tracks?limit=8&q=${encodeURIComponent(q.trim())}`);
        if (alive) {
          setTracks(page.items);
          setError(null);
        }
      } catch {
        if (alive) setError("The library could not be searched.");
      }
    }, 250);
    return () => {
      alive = false;
      window.clearTimeout(t);
    };
  }, [q]);

  return (
    <div className="room-track-picker">
      <label htmlFor={`${id}-q`}>Find a track</label>
      <input id={`${id}-q`} type="search" value={q} onChange={(e) => setQ(e.target.value)} autoComplete="off" />
      {error && <p className="form-error">{error}</p>}
      <ul className="room-tracks" aria-label="Tracks">
        {tracks.map((t) => (
          <li key={t.id}>
            <button
              type="button"
              className="room-track"
              aria-pressed={picked?.id === t.id}
              onClick={() => onPick({ id: t.id, title: `${t.title} — ${t.artist}`, url: trackStreamUrl(t.id, accessToken()) })}
            >
              <span>{t.title}</span>
              <span className="muted small">{t.artist}</span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
