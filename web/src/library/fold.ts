/**
 * Case- and accent-insensitive form of a string, like the server's search ("Café" → "cafe"),
 * for matching the album and artist lists on the client.
 */
export function fold(s: string): string {
  return s.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
}

/** Whether every word of `query` occurs in `text` (the server's rule for tracks). */
export function matchesAll(text: string, query: string): boolean {
  const words = fold(query).split(/\s+/).filter(Boolean);
  if (words.length === 0) return false;
  const t = fold(text);
  return words.every((w) => t.includes(w));
}
