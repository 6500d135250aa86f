// What the scan progress bar shows for a `GET /api/library/scan` snapshot.
import type { ScanStatus } from "../api/library";
import { plural } from "../lib/format";

export interface ScanView {
  /** 0..1, or null while the total is unknown (the bar is then indeterminate). */
  value: number | null;
  label: string;
  /** For a finished scan, its counts without the "Scan complete" lead (the "last scan" line). */
  summary: string;
  done: boolean;
}

/**
 * The scanner walks the folders (`found` grows) while reading new or changed files (`probed`,
 * failures included) and skipping unchanged ones, so progress is handled / found so far.
 */
export function scanView(s: ScanStatus): ScanView {
  const handled = s.probed + s.unchanged;
  if (s.running) {
    if (s.found === 0) return { value: null, label: "Looking for audio files…", summary: "", done: false };
    const failed = s.failed ? `, ${s.failed} failed` : "";
    return {
      value: Math.min(1, handled / s.found),
      label: `Scanning: ${handled.toLocaleString("en")} of ${plural(s.found, "file")} checked${failed}`,
      summary: "",
      done: false,
    };
  }
  if (s.finished_at_ms === 0) {
    const label = "No scan has run since the server started.";
    return { value: null, label, summary: label, done: false };
  }
  const secs = Math.max(0, (s.finished_at_ms - s.started_at_ms) / 1000);
  const parts = [
    `${plural(s.found, "file")} found`,
    `${s.probed.toLocaleString("en")} read`,
    `${s.unchanged.toLocaleString("en")} unchanged`,
  ];
  if (s.failed) parts.push(`${s.failed.toLocaleString("en")} failed`);
  if (s.removed) parts.push(`${s.removed.toLocaleString("en")} removed`);
  const summary = `${parts.join(", ")} in ${secs.toFixed(1)} s`;
  return { value: 1, label: `Scan complete: ${summary}`, summary, done: true };
}
