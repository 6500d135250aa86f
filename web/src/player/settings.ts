// The player's remembered preferences (volume, mute, quality, streaming mode), kept in
// localStorage and validated on the way in: a stale or hand-edited value falls back to the default.
import { QUALITY_SETTINGS, type QualitySetting } from "../lib/quality";
import type { StreamPreference } from "./engine";

export interface PlayerSettings {
  volume: number;
  muted: boolean;
  quality: QualitySetting;
  preference: StreamPreference;
}

export const DEFAULT_SETTINGS: PlayerSettings = {
  volume: 1,
  muted: false,
  quality: "auto",
  preference: "auto",
};

const KEY = "tonearm.player";

/** Parses stored settings, keeping only valid fields. */
export function parseSettings(raw: string | null): PlayerSettings {
  let v: Record<string, unknown> = {};
  try {
    const parsed: unknown = raw ? JSON.parse(raw) : {};
    if (parsed && typeof parsed === "object") v = parsed as Record<string, unknown>;
  } catch {
    /* corrupt: defaults */
  }
  const s = { ...DEFAULT_SETTINGS };
  if (typeof v.volume === "number" && v.volume >= 0 && v.volume <= 1) s.volume = v.volume;
  if (typeof v.muted === "boolean") s.muted = v.muted;
  if (QUALITY_SETTINGS.includes(v.quality as QualitySetting)) s.quality = v.quality as QualitySetting;
  if (v.preference === "auto" || v.preference === "progressive") s.preference = v.preference;
  return s;
}

export function loadSettings(): PlayerSettings {
  try {
    return parseSettings(globalThis.localStorage?.getItem(KEY) ?? null);
  } catch {
    return { ...DEFAULT_SETTINGS };
  }
}

export function saveSettings(s: PlayerSettings): void {
  try {
    globalThis.localStorage?.setItem(KEY, JSON.stringify(s));
  } catch {
    /* private mode: not remembered */
  }
}
