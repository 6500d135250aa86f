// The host's controls: pick a source (microphone, tab/system audio, a file, a library track),
// go on air, and watch the room's figures (guests, bitrate, latency, guests' buffers).
import { useEffect, useId, useState } from "react";
import { useSession } from "../auth/useSession";
import { hostingUnsupported } from "./host/broadcaster";
import type { SourceChoice, SourceKind } from "./host/sources";
import type { RoomSession, RoomSnapshot } from "./session";
import { TrackPicker, type PickedTrack } from "./TrackPicker";
import { clockTime, ms, plural } from "./format";

const SOURCES: { kind: SourceKind; label: string; hint: string }[] = [
  { kind: "mic", label: "Microphone or line in", hint: "Voice processing is turned off so music sounds right." },
  { kind: "tab", label: "A browser tab or system audio", hint: 'Pick a tab and tick "Share tab audio".' },
  { kind: "file", label: "An audio file", hint: "Plays from this device." },
  { kind: "track", label: "A track from the library", hint: "Streams from your Tonearm library." },
];

function ElementControls({ el }: { el: HTMLAudioElement }) {
  const [, tick] = useState(0);
  useEffect(() => {
    const t = window.setInterval(() => tick((n) => n + 1), 500);
    const on = () => tick((n) => n + 1);
    el.addEventListener("play", on);
    el.addEventListener("pause", on);
    return () => {
      window.clearInterval(t);
      el.removeEventListener("play", on);
      el.removeEventListener("pause", on);
    };
  }, [el]);
  return (
    <div className="actions">
      <button className="btn small" type="button" onClick={() => (el.paused ? void el.play() : el.pause())}>
        {el.paused ? "Play" : "Pause"}
      </button>
      <span className="muted small">
        {clockTime(el.currentTime)} / {Number.isFinite(el.duration) ? clockTime(el.duration) : "–"}
        {el.ended ? " · ended" : ""}
      </span>
    </div>
  );
}

export function HostPanel({ session, snap }: { session: RoomSession; snap: RoomSnapshot }) {
  const id = useId();
  const signedIn = useSession() !== null;
  const [kind, setKind] = useState<SourceKind>("mic");
  const [file, setFile] = useState<File | null>(null);
  const [track, setTrack] = useState<PickedTrack | null>(null);
  const [monitor, setMonitor] = useState(false);
  const [confirmClose, setConfirmClose] = useState(false);
  const [closeError, setCloseError] = useState<string | null>(null);
  const b = snap.broadcast;
  const unsupported = hostingUnsupported();
  const onAir = b.phase === "live" || b.phase === "starting";

  const choice: SourceChoice | null =
    kind === "mic" || kind === "tab" ? { kind } : kind === "file" ? (file ? { kind, file } : null) : track ? { kind, url: track.url, title: track.title } : null;
  const canStart = !unsupported && !onAir && choice !== null && snap.clock !== null && snap.connection === "connected";

  const start = () => {
    if (choice) void session.startBroadcast(choice, monitor);
  };
  const stats = snap.stats;

  return (
    <section className="room-card" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Broadcast</h2>
      {unsupported && (
        <div className="notice error" role="alert">
          <p>{unsupported}</p>
        </div>
      )}
      <fieldset className="room-sources" disabled={onAir}>
        <legend>Source</legend>
        {SOURCES.filter((s) => s.kind !== "track" || signedIn).map((s) => (
          <div key={s.kind} className="room-source">
            <input type="radio" id={`${id}-${s.kind}`} name={`${id}-source`} value={s.kind} checked={kind === s.kind} onChange={() => setKind(s.kind)} aria-describedby={`${id}-${s.kind}-hint`} />
            <label htmlFor={`${id}-${s.kind}`}>
              {s.label}
              <span id={`${id}-${s.kind}-hint`} className="hint">
                {" "}
                {s.hint}
              </span>
            </label>
          </div>
        ))}
        {kind === "file" && (
          <div className="field">
            <label htmlFor={`${id}-file`}>Audio file</label>
            <input id={`${id}-file`} type="file" accept="audio/*" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
          </div>
        )}
        {kind === "track" && signedIn && <TrackPicker picked={track} onPick={setTrack} />}
        <div className="room-check">
          <input id={`${id}-monitor`} type="checkbox" checked={monitor} onChange={(e) => setMonitor(e.target.checked)} />
          <label htmlFor={`${id}-monitor`}>Also play it on this device (no need for tab audio, which you already hear)</label>
        </div>
      </fieldset>

      <div className="actions">
        {onAir ? (
          <button className="btn primary" type="button" onClick={() => session.stopBroadcast()}>
            Stop broadcast
          </button>
        ) : (
          <button className="btn primary" type="button" onClick={start} disabled={!canStart}>
            Start broadcast
          </button>
        )}
        {!onAir && snap.clock === null && <span className="muted small">Syncing with the server's clock…</span>}
      </div>

      <div role="status" aria-live="polite" className="room-onair">
        {b.phase === "starting" && <p>Starting…</p>}
        {b.phase === "live" && (
          <p>
            <span className="room-pill live">On air</span> {b.label}
          </p>
        )}
        {b.phase === "idle" && !b.error && <p className="muted">Not broadcasting.</p>}
      </div>
      {b.error && (
        <div className="notice error" role="alert">
          <p>{b.error}</p>
        </div>
      )}
      {b.phase === "live" && b.element && <ElementControls el={b.element} />}
      {b.lastRefusal && (
        <p className="form-error">
          The server refused {plural(b.refused, "frame")}: {b.lastRefusal}
        </p>
      )}

      {b.phase === "live" && (
        <dl className="room-stats" aria-label="Broadcast figures" data-testid="host-stats">
          <div>
            <dt>Guests</dt>
            <dd>{stats ? stats.guestCount : "–"}</dd>
          </div>
          <div>
            <dt>Bitrate</dt>
            <dd>{stats ? `${Math.round(stats.bitrate)} kbps` : `${b.sentKbps} kbps sent`}</dd>
          </div>
          <div>
            <dt>Latency to server</dt>
            <dd>{stats ? ms(stats.latency) : "–"}</dd>
          </div>
          <div>
            <dt>Guests' buffer</dt>
            <dd>{stats ? ms(stats.bufferLevel) : "–"}</dd>
          </div>
          <div>
            <dt>On air for</dt>
            <dd>{stats ? clockTime(stats.duration) : "–"}</dd>
          </div>
          <div>
            <dt>Frames sent</dt>
            <dd>{b.framesSent}</dd>
          </div>
        </dl>
      )}

      {session.canClose && (
        <div className="actions room-close">
          {confirmClose ? (
            <>
              <span>Close the room for everyone?</span>
              <button
                className="btn small"
                type="button"
                onClick={async () => {
                  setCloseError(await session.closeRoom());
                  setConfirmClose(false);
                }}
              >
                Yes, close it
              </button>
              <button className="btn small" type="button" onClick={() => setConfirmClose(false)}>
                Keep it open
              </button>
            </>
          ) : (
            <button className="btn small" type="button" onClick={() => setConfirmClose(true)}>
              Close room
            </button>
          )}
          {closeError && (
            <p className="form-error" role="alert">
              {closeError}
            </p>
          )}
        </div>
      )}
    </section>
  );
}
