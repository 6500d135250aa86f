// Human spellings of numbers the server sends: durations, sizes, counts, waits, audio formats,
// and the audio analysis's tempo, key, scores and loudness.

/** A track length as a clock: "3:07", "1:02:05"; "–:––" when unknown. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms) || ms < 0) return "–:––";
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** A running time in words for albums and lists: "42 min", "1 h 5 min", "under a minute". */
export function formatTotal(ms: number): string {
  const minutes = Math.round(ms / 60000);
  if (minutes < 1) return "under a minute";
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h === 0) return `${m} min`;
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}

/** "1 track", "3 tracks"; the plural defaults to `singular + "s"`. */
export function plural(n: number, singular: string, pluralForm = singular + "s"): string {
  return `${n.toLocaleString("en")} ${n === 1 ? singular : pluralForm}`;
}

/** Bytes in binary units: "512 B", "1.5 KB", "12 MB", "2.1 GB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "?";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const digits = i === 0 || v >= 10 ? 0 : 1;
  return `${v.toFixed(digits)} ${units[i]}`;
}

/** A wait in words, for "try again in …": "1 second", "45 seconds", "2 minutes 5 seconds", "1 hour". */
export function formatWait(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 60) return plural(s, "second");
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  const parts = [];
  if (h) parts.push(plural(h, "hour"));
  if (m) parts.push(plural(m, "minute"));
  if (rest && !h) parts.push(plural(rest, "second"));
  return parts.join(" ");
}

/** A compact audio format label: "FLAC · 44.1 kHz · 16-bit", "MP3 · 320 kbps". */
export function formatAudio(t: {
  codec: string;
  sample_rate: number;
  bit_depth: number | null;
  bitrate: number;
}): string {
  const parts = [t.codec.toUpperCase()];
  if (t.sample_rate > 0) parts.push(`${+(t.sample_rate / 1000).toFixed(1)} kHz`);
  if (t.bit_depth) parts.push(`${t.bit_depth}-bit`);
  else if (t.bitrate > 0) parts.push(`${Math.round(t.bitrate / 1000)} kbps`);
  return parts.join(" · ");
}

/** A tempo as a whole number of beats per minute: "123"; "" when unknown (an empty cell). */
export function formatBpm(bpm: number | null | undefined): string {
  if (bpm == null || !Number.isFinite(bpm) || bpm <= 0) return "";
  return String(Math.round(bpm));
}

/**
 * A key as the server spells it ("A minor", "F# major"), with its Camelot code when known:
 * "A minor (8A)"; "" when unknown.
 */
export function formatKey(name: string | null | undefined, camelot?: string | null): string {
  const k = name?.trim() ?? "";
  if (!k) return "";
  return camelot?.trim() ? `${k} (${camelot.trim()})` : k;
}

/** A 0..1 score as a percentage: "73%" (clamped); "" when unknown. */
export function formatPercent(v: number | null | undefined): string {
  if (v == null || !Number.isFinite(v)) return "";
  return `${Math.round(Math.min(1, Math.max(0, v)) * 100)}%`;
}

/** Integrated loudness: "-14.2 LUFS"; "" when unknown. */
export function formatLufs(lufs: number | null | undefined): string {
  if (lufs == null || !Number.isFinite(lufs)) return "";
  const v = lufs.toFixed(1);
  return `${v === "-0.0" ? "0.0" : v} LUFS`;
}
