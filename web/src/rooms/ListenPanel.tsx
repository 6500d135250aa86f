// The guest's audio panel: state, buffer level, the sync figures, volume, and the per-device
// output offset for speakers that lag (Bluetooth).
import { useId } from "react";
import type { RoomSession, RoomSnapshot } from "./session";
import { ms } from "./format";

export function ListenPanel({ session, snap }: { session: RoomSession; snap: RoomSnapshot }) {
  const id = useId();
  const l = snap.listen;
  const live = snap.room?.isLive ?? false;
  const status = !l
    ? "Preparing audio…"
    : l.phase === "error"
      ? "Audio is unavailable."
      : l.phase === "suspended"
        ? "Tap Start listening to hear the room."
        : !live
          ? snap.broadcastStopped
            ? "The host stopped the broadcast."
            : "The host is not broadcasting yet."
          : l.phase === "playing"
            ? "Playing in sync with the room."
            : "Waiting for audio…";
  const maxBuffer = Math.max(100, (l?.delayMs ?? 400) * 1.25);

  return (
    <section className="room-card" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Listen</h2>
      <p role="status" aria-live="polite" className="room-listen-status" data-testid="listen-status">
        {live && l?.phase === "playing" && <span className="room-pill live">Live</span>} {status}
      </p>
      {snap.broadcastStopped && !live && (
        <p className="notice" data-testid="broadcast-stopped">
          Broadcast stopped. Stay here: the audio starts again when the host goes back on air.
        </p>
      )}
      {l?.error && (
        <div className="notice error" role="alert">
          <p>{l.error}</p>
        </div>
      )}
      {l?.phase === "suspended" && (
        <div className="actions">
          <button className="btn primary" type="button" onClick={() => void session.startListening()}>
            Start listening
          </button>
        </div>
      )}
      {l && l.phase !== "error" && (
        <>
          <div className="room-buffer">
            <label htmlFor={`${id}-buf`}>Buffer</label>
            <meter id={`${id}-buf`} min={0} max={maxBuffer} low={60} optimum={l.delayMs} value={Math.min(l.bufferMs, maxBuffer)}>
              {Math.round(l.bufferMs)} ms
            </meter>
            <span className="small" data-testid="buffer-level">
              {ms(l.bufferMs)}
            </span>
          </div>
          <dl className="room-stats" aria-label="Sync figures">
            <div>
              <dt>Delay</dt>
              <dd>
                {ms(l.delayMs)}
                {l.delayMs > l.roomDelayMs ? " (grown for your network)" : ""}
              </dd>
            </div>
            <div>
              <dt>Clock</dt>
              <dd>{snap.clock ? `±${ms(snap.clock.rttMs / 2)}` : "syncing…"}</dd>
            </div>
            <div>
              <dt>Quality</dt>
              <dd>{l.layer === "high" ? "High" : "Low (saving data)"}</dd>
            </div>
            <div>
              <dt>Late / lost frames</dt>
              <dd>
                {l.late} / {l.lost}
              </dd>
            </div>
          </dl>
          <div className="room-sliders">
            <div className="field">
              <label htmlFor={`${id}-vol`}>Volume</label>
              <input id={`${id}-vol`} type="range" min={0} max={1} step={0.05} value={l.volume} onChange={(e) => session.setVolume(Number(e.target.value))} />
            </div>
            <div className="field">
              <label htmlFor={`${id}-off`}>
                Bluetooth offset: <output htmlFor={`${id}-off`}>{Math.round(l.outputOffsetMs)} ms</output>
              </label>
              <input
                id={`${id}-off`}
                type="range"
                min={0}
                max={500}
                step={5}
                value={l.outputOffsetMs}
                onChange={(e) => session.setOutputOffset(Number(e.target.value))}
                aria-describedby={`${id}-off-hint`}
              />
              <span id={`${id}-off-hint`} className="hint">
                If your speakers or headphones lag behind the others (Bluetooth does), raise this until you hear the room in step.
              </span>
            </div>
          </div>
        </>
      )}
    </section>
  );
}
