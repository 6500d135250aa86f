// The tracks page's filter: what was typed in the BPM boxes and chosen as the key, turned into
// the `bpm_min`/`bpm_max`/`key` parameters of `GET /api/tracks`, or a sentence saying why not.
import type { TrackQuery } from "../api/library";

export interface FilterInput {
  /** The BPM boxes' text (empty: no bound). */
  bpmMin: string;
  bpmMax: string;
  /** A key from KEYS, or "" for any. */
  key: string;
}

export const NO_FILTER: FilterInput = { bpmMin: "", bpmMax: "", key: "" };

export type FilterQuery = Pick<TrackQuery, "bpm_min" | "bpm_max" | "key">;

/** A BPM box: null when empty, NaN when not a usable tempo. */
function bound(text: string): number | null {
  const t = text.trim().replace(",", ".");
  if (t === "") return null;
  const v = Number(t);
  return Number.isFinite(v) && v >= 0 ? v : Number.NaN;
}

/**
 * The query for `input`. A box that is not a tempo, or a range that is upside down, is left out
 * of the query (the rest still applies) and explained in `error`.
 */
export function filterQuery(input: FilterInput): { query: FilterQuery; error: string | null } {
  const query: FilterQuery = {};
  const min = bound(input.bpmMin);
  const max = bound(input.bpmMax);
  let error: string | null = null;
  if (Number.isNaN(min) || Number.isNaN(max)) error = "BPM must be a number of 0 or more.";
  else if (min !== null && max !== null && min > max) error = "The lowest BPM is above the highest.";
  else {
    if (min !== null) query.bpm_min = min;
    if (max !== null) query.bpm_max = max;
  }
  const key = input.key.trim();
  if (key) query.key = key;
  return { query, error };
}

/** Whether the filter narrows the listing at all (the clear button shows then). */
export function isFiltering(input: FilterInput): boolean {
  return input.bpmMin.trim() !== "" || input.bpmMax.trim() !== "" || input.key.trim() !== "";
}

/** The table's caption for the filtered listing: "Tracks in A minor, 120–130 BPM". */
export function filterCaption(q: FilterQuery): string {
  const parts: string[] = [];
  if (q.key) parts.push(`in ${q.key}`);
  if (q.bpm_min !== undefined && q.bpm_max !== undefined) parts.push(`${q.bpm_min}–${q.bpm_max} BPM`);
  else if (q.bpm_min !== undefined) parts.push(`at least ${q.bpm_min} BPM`);
  else if (q.bpm_max !== undefined) parts.push(`at most ${q.bpm_max} BPM`);
  return parts.length ? `Tracks ${parts.join(", ")}` : "All tracks";
}
