// `/rooms`: live rooms (refreshed every few seconds), "Start a room", and "Join by link".
import { useEffect, useId, useState, type FormEvent } from "react";
import { ApiError, api } from "../api/client";
import { navigate } from "../router/history";
import { paths } from "../router/match";
import { roomIdFrom } from "./messages";
import { roomStorage } from "./storage";
import { plural } from "./format";
import { usePageTitle } from "../library/usePageTitle";
import "./rooms.css";

/** A room as `GET /api/rooms` lists it. */
interface RoomListing {
  roomId: string;
  roomName: string;
  hostId: string;
  guestCount: number;
  isLive: boolean;
  createdAt: number;
  hasPassword: boolean;
}

interface Created {
  roomId: string;
  hostToken: string;
}

const REFRESH_MS = 5_000;

function useRooms(): { rooms: RoomListing[] | null; error: string | null } {
  const [rooms, setRooms] = useState<RoomListing[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let alive = true;
    let timer: number | undefined;
    const load = async () => {
      try {
        const list = await api<RoomListing[]>("/api/rooms");
        if (!alive) return;
        setRooms(Array.isArray(list) ? list : []);
        setError(null);
      } catch (e) {
        if (alive) setError(e instanceof ApiError ? e.message : "The list of rooms could not be loaded. Retrying…");
      }
      if (alive) timer = window.setTimeout(load, REFRESH_MS);
    };
    void load();
    return () => {
      alive = false;
      window.clearTimeout(timer);
    };
  }, []);
  return { rooms, error };
}

function StartRoom() {
  const id = useId();
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const roomName = name.trim();
    if (!roomName) return setError("Give the room a name.");
    setBusy(true);
    setError(null);
    try {
      const body: Record<string, string> = { roomName };
      if (password) body.password = password;
      const r = await api<Created>("/api/rooms", { method: "POST", body: JSON.stringify(body) });
      // The host token is shown once: keep it, it is what makes this browser the host.
      roomStorage.setHostToken(r.roomId, r.hostToken);
      navigate(paths.room(r.roomId));
    } catch (e) {
      setError(e instanceof ApiError ? `The room could not be started: ${e.message}` : "The room could not be started: the server is unreachable.");
      setBusy(false);
    }
  };

  return (
    <form className="rooms-card" onSubmit={submit} aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Start a room</h2>
      <p className="hint">Play music to friends: they hear the same moment as you, wherever they are.</p>
      <div className="field">
        <label htmlFor={`${id}-name`}>Room name</label>
        <input id={`${id}-name`} value={name} onChange={(e) => setName(e.target.value)} maxLength={100} required autoComplete="off" />
      </div>
      <div className="field">
        <label htmlFor={`${id}-pw`}>Password (optional)</label>
        <input id={`${id}-pw`} type="password" value={password} onChange={(e) => setPassword(e.target.value)} maxLength={128} autoComplete="new-password" aria-describedby={`${id}-pw-hint`} />
        <span id={`${id}-pw-hint`} className="hint">
          Leave empty for a room anyone with the link can join.
        </span>
      </div>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <button className="btn primary" type="submit" disabled={busy}>
        {busy ? "Starting…" : "Start room"}
      </button>
    </form>
  );
}

function JoinByLink() {
  const id = useId();
  const [link, setLink] = useState("");
  const [error, setError] = useState<string | null>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const roomId = roomIdFrom(link);
    if (!roomId) return setError("Paste a room link like https://…/room/AbC123, or its code.");
    navigate(paths.room(roomId));
  };
  return (
    <form className="rooms-card" onSubmit={submit} aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Join by link</h2>
      <div className="field">
        <label htmlFor={`${id}-link`}>Room link or code</label>
        <input
          id={`${id}-link`}
          value={link}
          onChange={(e) => {
            setLink(e.target.value);
            setError(null);
          }}
          inputMode="url"
          autoComplete="off"
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id}-err` : undefined}
        />
      </div>
      {error && (
        <p id={`${id}-err`} className="form-error" role="alert">
          {error}
        </p>
      )}
      <button className="btn" type="submit">
        Join
      </button>
    </form>
  );
}

function LiveRooms() {
  const { rooms, error } = useRooms();
  return (
    <section aria-labelledby="rooms-live-h" className="rooms-live">
      <h2 id="rooms-live-h">Open rooms</h2>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {rooms === null && !error && <p className="muted">Loading rooms…</p>}
      {rooms !== null && rooms.length === 0 && <p className="muted">No rooms are open right now. Start one!</p>}
      {rooms !== null && rooms.length > 0 && (
        <ul className="rooms-listing" aria-live="polite">
          {rooms.map((r) => (
            <li key={r.roomId}>
              <a href={paths.room(r.roomId)} className="rooms-listing-link">
                <span className="rooms-listing-name">{r.roomName}</span>
                <span className="rooms-listing-meta">
                  {r.isLive ? <span className="room-pill live">Live</span> : <span className="room-pill">Not live</span>}
                  <span>{plural(r.guestCount, "guest")}</span>
                  {r.hasPassword && <span className="room-pill">Password</span>}
                </span>
              </a>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function RoomsList() {
  usePageTitle("Listening rooms");
  return (
    <section className="page rooms-page" aria-labelledby="rooms-h">
      <h1 id="rooms-h" tabIndex={-1}>
        Listening rooms
      </h1>
      <p className="muted">Listen together: everyone in a room hears the host's music in sync. No account needed.</p>
      <div className="rooms-start">
        <StartRoom />
        <JoinByLink />
      </div>
      <LiveRooms />
    </section>
  );
}
