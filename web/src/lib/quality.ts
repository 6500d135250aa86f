// Choosing a stream quality. Pure functions: the engine passes in what the browser reports
// (`navigator.connection`, the HLS ladder) so the choice is testable without a browser.

/** The server's transcode tiers for progressive streams (MP3 64/128/256 kbps). */
export type StreamQuality = "low" | "medium" | "high";
/** The user's setting: `auto` adapts (HLS: ABR; progressive: from the connection). */
export type QualitySetting = "auto" | StreamQuality;

export const QUALITIES: readonly StreamQuality[] = ["low", "medium", "high"];
export const QUALITY_SETTINGS: readonly QualitySetting[] = ["auto", "low", "medium", "high"];

/** What the Network Information API tells us (Chromium only; absent elsewhere). */
export interface ConnectionInfo {
  effectiveType?: string;
  saveData?: boolean;
}

/** `navigator.connection`, where the browser has it. */
export function currentConnection(): ConnectionInfo | undefined {
  const nav = globalThis.navigator as (Navigator & { connection?: ConnectionInfo }) | undefined;
  return nav?.connection;
}

/**
 * The progressive quality a connection can sustain: Data Saver or 2G → low, 3G → medium,
 * anything faster (or unknown: most browsers do not say) → high.
 */
export function qualityFromConnection(c: ConnectionInfo | null | undefined): StreamQuality {
  if (!c) return "high";
  if (c.saveData) return "low";
  switch (c.effectiveType) {
    case "slow-2g":
    case "2g":
      return "low";
    case "3g":
      return "medium";
    default:
      return "high";
  }
}

/** The `quality=` a progressive stream asks for under `setting`. */
export function progressiveQuality(
  setting: QualitySetting,
  c: ConnectionInfo | null | undefined,
): StreamQuality {
  return setting === "auto" ? qualityFromConnection(c) : setting;
}

/** One quality lower, or null at the bottom (error recovery steps down). */
export function stepDown(q: StreamQuality): StreamQuality | null {
  const i = QUALITIES.indexOf(q);
  return i > 0 ? QUALITIES[i - 1] : null;
}

/** The HLS ladder's bitrate (kbps) a pinned setting aims for. */
export const HLS_TARGET_KBPS: Record<StreamQuality, number> = { low: 128, medium: 256, high: 320 };

/**
 * The index of the HLS level whose bitrate (bits/s, as hls.js reports `BANDWIDTH`) is nearest
 * `kbps`; -1 when there are no levels. Ties go to the lower bitrate (cheaper to sustain).
 */
export function nearestLevel(bitrates: readonly number[], kbps: number): number {
  let best = -1;
  let bestGap = Infinity;
  bitrates.forEach((b, i) => {
    const gap = Math.abs(b - kbps * 1000);
    if (gap < bestGap || (gap === bestGap && b < bitrates[best])) {
      best = i;
      bestGap = gap;
    }
  });
  return best;
}

/** A short label for a bitrate in bits/s, e.g. "256 kbps". */
export function formatKbps(bitsPerSecond: number): string {
  return `${Math.round(bitsPerSecond / 1000)} kbps`;
}
