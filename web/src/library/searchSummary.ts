import { plural } from "../lib/format";

/** "1 track and 2 albums match “x”", naming only what was found; "Nothing matches “x”" otherwise. */
export function searchSummary(q: string, counts: { tracks: number; albums: number; artists: number }): string {
  const parts = [
    counts.artists ? plural(counts.artists, "artist") : "",
    counts.albums ? plural(counts.albums, "album") : "",
    counts.tracks ? plural(counts.tracks, "track") : "",
  ].filter(Boolean);
  if (parts.length === 0) return `Nothing matches “${q}”`;
  const list = parts.length === 1 ? parts[0] : `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}`;
  const one = parts.length === 1 && /^1 /.test(parts[0]);
  return `${list} ${one ? "matches" : "match"} “${q}”`;
}
