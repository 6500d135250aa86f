// Small display helpers for the rooms pages.

/** 83 → "1:23"; 3723 → "1:02:03". */
export function clockTime(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** A duration in ms, rounded for people: "12 ms", "1.4 s". */
export function ms(v: number): string {
  if (!Number.isFinite(v)) return "–";
  return Math.abs(v) >= 1000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`;
}

/** "3 guests", "1 guest". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The time of day of an epoch-ms timestamp, "14:05". */
export function timeOfDay(epochMs: number): string {
  return new Date(epochMs).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}
