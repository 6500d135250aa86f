import { useState } from "react";
import { coverUrl } from "../api/library";

/** A stable hue per name, so an album without art keeps the same placeholder colour. */
export function hueOf(name: string): number {
  let h = 0x811c9dc5; // FNV-1a: similar names still get well-spread hues
  for (const ch of name) h = Math.imul(h ^ (ch.codePointAt(0) ?? 0), 0x01000193);
  return (h >>> 0) % 360;
}

/** Up to two initials: "First Light" → "FL", "björk" → "B". */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  return words
    .slice(0, 2)
    .map((w) => [...w][0]?.toUpperCase() ?? "")
    .join("");
}

/**
 * An album cover: the track's art at `size` CSS pixels (2× for sharp screens), or a coloured
 * placeholder with initials when there is no art or it fails to load. Decorative: the album
 * name is always written next to it.
 */
export function Cover({ trackId, name, size }: { trackId: string | null; name: string; size: number }) {
  const [failed, setFailed] = useState<string | null>(null);
  if (!trackId || failed === trackId) {
    return (
      <div
        className="cover placeholder"
        aria-hidden="true"
        data-testid="cover-placeholder"
        style={{ background: `linear-gradient(135deg, hsl(${hueOf(name)} 45% 32%), hsl(${(hueOf(name) + 40) % 360} 50% 20%))` }}
      >
        <span>{initials(name) || "♪"}</span>
      </div>
    );
  }
  return (
    <img
      className="cover"
      src={coverUrl(trackId, size)}
      srcSet={`${coverUrl(trackId, size)} 1x, ${coverUrl(trackId, Math.min(size * 2, 2000))} 2x`}
      width={size}
      height={size}
      loading="lazy"
      decoding="async"
      alt=""
      onError={() => setFailed(trackId)}
    />
  );
}
