// Playback settings: the quality (Auto adapts; Low/Medium/High pin the HLS level nearest
// 128/256/320 kbps, or the progressive tier) and the streaming mode, with what is in use now.
import { useEffect, useRef, type ReactElement } from "react";
import { formatKbps, QUALITY_SETTINGS, type QualitySetting } from "../lib/quality";
import type { EngineState, StreamPreference } from "./engine";
import { Icon } from "./icons";
import type { Player } from "./player";
import { usePanelKeys } from "./usePanelKeys";

const QUALITY_LABEL: Record<QualitySetting, string> = {
  auto: "Auto",
  low: "Low",
  medium: "Medium",
  high: "High",
};

const QUALITY_HINT: Record<QualitySetting, string> = {
  auto: "adapts to your connection",
  low: "saves data",
  medium: "balanced",
  high: "best sound",
};

/** Progressive tiers as the server encodes them (MP3). */
const PROGRESSIVE_KBPS = { low: 64, medium: 128, high: 256 } as const;

/** The short label on the settings button: the setting, and the bitrate in use. */
export function qualityChip(e: EngineState): string {
  const label = QUALITY_LABEL[e.quality];
  const level = e.levels.find((l) => l.index === e.level);
  if (e.mode === "hls" && level) return `${label} · ${formatKbps(level.bitrate)}`;
  if (e.mode === "progressive" && e.progressiveQuality) return `${label} · ${PROGRESSIVE_KBPS[e.progressiveQuality]} kbps`;
  return label;
}

/** One sentence on how the track is streamed right now. */
export function streamDescription(e: EngineState): string {
  switch (e.mode) {
    case "hls": {
      const level = e.levels.find((l) => l.index === e.level);
      const rate = level ? ` at ${formatKbps(level.bitrate)}` : "";
      return `Adaptive stream (HLS, AAC)${rate}${e.quality === "auto" ? ", following your bandwidth" : ""}.`;
    }
    case "native-hls":
      return "Adaptive stream (HLS), chosen by your browser.";
    case "progressive":
      return e.progressiveQuality
        ? `Direct stream (MP3, ${PROGRESSIVE_KBPS[e.progressiveQuality]} kbps).`
        : "Direct stream.";
    default:
      return "Starting…";
  }
}

export function SettingsPanel({
  player,
  engine: e,
  onClose,
}: {
  player: Player;
  engine: EngineState;
  onClose: () => void;
}): ReactElement {
  const ref = useRef<HTMLElement>(null);
  usePanelKeys(ref, onClose);
  useEffect(() => {
    ref.current?.querySelector<HTMLInputElement>("input:checked")?.focus();
  }, []);
  return (
    <section id="tp-settings" className="tp-panel" aria-labelledby="tp-settings-title" ref={ref} tabIndex={-1}>
      <header className="tp-panel-head">
        <h2 id="tp-settings-title">Playback</h2>
        <button type="button" className="tp-icon" aria-label="Close playback settings" onClick={onClose}>
          <Icon name="close" />
        </button>
      </header>
      <fieldset className="tp-choices">
        <legend>Quality</legend>
        {QUALITY_SETTINGS.map((q) => (
          <label key={q}>
            <input
              type="radio"
              name="tp-quality"
              value={q}
              checked={e.quality === q}
              onChange={() => player.setQuality(q)}
            />
            <span>{QUALITY_LABEL[q]}</span>
            <span className="tp-hint">{QUALITY_HINT[q]}</span>
          </label>
        ))}
      </fieldset>
      <fieldset className="tp-choices">
        <legend>Streaming</legend>
        {(
          [
            ["auto", "Adaptive (HLS)", "encrypted, switches quality smoothly"],
            ["progressive", "Direct stream", "one MP3 file per track"],
          ] as [StreamPreference, string, string][]
        ).map(([p, label, hint]) => (
          <label key={p}>
            <input
              type="radio"
              name="tp-mode"
              value={p}
              checked={e.preference === p}
              onChange={() => player.setPreference(p)}
            />
            <span>{label}</span>
            <span className="tp-hint">{hint}</span>
          </label>
        ))}
      </fieldset>
      <p className="tp-now-streaming">
        <strong>Now: </strong>
        {streamDescription(e)}
        {e.fallback && <span className="tp-fallback"> {e.fallback}</span>}
      </p>
    </section>
  );
}
