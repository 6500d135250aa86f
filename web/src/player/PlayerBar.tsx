// The player bar: what plays (cover, title, artist), transport (previous, play/pause, next),
// the seek slider with elapsed/remaining time, volume and mute, and the queue and playback
// settings panels. Recovery notices are announced politely; a stop for good is an alert with
// a Retry button.
import { useEffect, useRef, useState, useSyncExternalStore, type ReactElement } from "react";
import { accessToken } from "../api/client";
import type { Track } from "../api/types";
import { formatDuration } from "../lib/format";
import { Icon } from "./icons";
import type { Player } from "./player";
import { QueuePanel } from "./QueuePanel";
import { SettingsPanel, qualityChip } from "./SettingsPanel";
import { coverUrl } from "./urls";

type PanelName = "queue" | "settings";

export function Bar({ player }: { player: Player }): ReactElement | null {
  const s = useSyncExternalStore(player.subscribe, player.getSnapshot);
  const [panel, setPanel] = useState<PanelName | null>(null);
  const queueButton = useRef<HTMLButtonElement>(null);
  const settingsButton = useRef<HTMLButtonElement>(null);

  if (!s.current) return null;
  const e = s.engine;
  const busy = e.status === "loading" || e.status === "buffering" || e.status === "recovering";

  /** Closes the open panel and puts focus back on the button that opened it. */
  const close = () => {
    const back = panel === "queue" ? queueButton.current : settingsButton.current;
    setPanel(null);
    back?.focus();
  };
  const toggle = (p: PanelName) => setPanel((cur) => (cur === p ? null : p));

  return (
    <section className="tp-bar" aria-label="Player" aria-busy={busy}>
      {panel === "queue" && <QueuePanel player={player} snapshot={s} onClose={close} />}
      {panel === "settings" && <SettingsPanel player={player} engine={e} onClose={close} />}

      <NowPlaying track={s.current} />

      <div className="tp-controls">
        <button type="button" className="tp-icon" aria-label="Previous track" onClick={() => player.previous()}>
          <Icon name="previous" />
        </button>
        <button
          type="button"
          className={`tp-play${busy && !e.paused ? " tp-busy" : ""}`}
          aria-label={e.paused ? "Play" : "Pause"}
          onClick={() => player.toggle()}
        >
          <Icon name={e.paused ? "play" : "pause"} size={28} />
        </button>
        <button
          type="button"
          className="tp-icon"
          aria-label="Next track"
          disabled={s.queue.index + 1 >= s.queue.items.length}
          onClick={() => player.next()}
        >
          <Icon name="next" />
        </button>
      </div>

      <SeekBar position={e.position} duration={e.duration} onSeek={(t) => player.seek(t)} />

      <div className="tp-extra">
        <button
          type="button"
          className="tp-icon"
          aria-label={e.muted ? "Unmute" : "Mute"}
          aria-pressed={e.muted}
          onClick={() => player.toggleMute()}
        >
          <Icon name={e.muted || e.volume === 0 ? "muted" : "volume"} />
        </button>
        <input
          className="tp-volume"
          type="range"
          min={0}
          max={100}
          step={1}
          value={e.muted ? 0 : Math.round(e.volume * 100)}
          aria-label="Volume"
          aria-valuetext={e.muted ? "muted" : `${Math.round(e.volume * 100)} %`}
          onChange={(ev) => player.setVolume(Number(ev.currentTarget.value) / 100)}
        />
        <button
          ref={settingsButton}
          type="button"
          className="tp-chip"
          aria-label={`Playback quality: ${qualityChip(e)}`}
          aria-expanded={panel === "settings"}
          aria-controls="tp-settings"
          onClick={() => toggle("settings")}
        >
          <Icon name="tune" size={20} />
          <span>{qualityChip(e)}</span>
        </button>
        <button
          ref={queueButton}
          type="button"
          className="tp-icon"
          aria-label={`Queue, ${s.queue.items.length} tracks`}
          aria-expanded={panel === "queue"}
          aria-controls="tp-queue"
          onClick={() => toggle("queue")}
        >
          <Icon name="queue" />
        </button>
      </div>

      <div className="tp-notice" role="status" aria-live="polite">
        {e.error ? "" : (e.notice ?? "")}
      </div>
      {e.error && (
        <div className="tp-error" role="alert">
          <span>{e.error}</span>
          <button type="button" onClick={() => player.retry()}>
            Retry
          </button>
        </div>
      )}
    </section>
  );
}

/** Cover, title and artist of the current track. */
function NowPlaying({ track }: { track: Track }): ReactElement {
  const [broken, setBroken] = useState<string | null>(null);
  const showCover = track.has_cover && broken !== track.id;
  return (
    <div className="tp-now">
      {showCover ? (
        <img
          className="tp-cover"
          src={coverUrl(track.id, 128, accessToken())}
          alt=""
          width={56}
          height={56}
          onError={() => setBroken(track.id)}
        />
      ) : (
        <div className="tp-cover tp-cover-empty" aria-hidden="true">
          <Icon name="note" />
        </div>
      )}
      <div className="tp-meta">
        <div className="tp-title" title={track.title}>
          {track.title || "Untitled"}
        </div>
        <div className="tp-artist" title={track.artist}>
          {track.artist || "Unknown artist"}
        </div>
      </div>
    </div>
  );
}

const clock = (seconds: number) => formatDuration(Math.max(0, seconds) * 1000);

/**
 * The seek slider with elapsed and remaining time. While a pointer drags it, the thumb follows
 * the pointer and the seek happens on release (one request, not one per pixel); keyboard and
 * programmatic changes seek at once.
 */
function SeekBar({
  position,
  duration,
  onSeek,
}: {
  position: number;
  duration: number;
  onSeek: (t: number) => void;
}): ReactElement {
  const [scrub, setScrub] = useState<number | null>(null);
  const dragging = useRef(false);
  const known = Number.isFinite(duration) && duration > 0;
  const max = known ? duration : 0;
  const value = Math.min(scrub ?? position, max);
  const commit = (v: number) => {
    dragging.current = false;
    setScrub(null);
    onSeek(v);
  };
  // A drag that ends outside the slider still commits.
  useEffect(() => {
    if (scrub === null) return;
    const up = () => dragging.current && commit(scrub);
    window.addEventListener("pointerup", up);
    return () => window.removeEventListener("pointerup", up);
  });
  return (
    <div className="tp-seek">
      <span className="tp-time">{clock(value)}</span>
      <input
        type="range"
        min={0}
        max={max}
        step={1}
        value={value}
        disabled={!known}
        aria-label="Seek"
        aria-valuetext={`${clock(value)} of ${known ? clock(duration) : "unknown length"}`}
        onPointerDown={() => (dragging.current = true)}
        onChange={(ev) => {
          const v = Number(ev.currentTarget.value);
          if (dragging.current) setScrub(v);
          else onSeek(v);
        }}
        onPointerUp={(ev) => dragging.current && commit(Number(ev.currentTarget.value))}
      />
      <span className="tp-time">{known ? `-${clock(duration - value)}` : "–:––"}</span>
    </div>
  );
}
