import type { Artist } from "../api/library";
import { plural } from "../lib/format";
import { paths } from "../router/match";

/** Artists as a list of links with their album and track counts. */
export function ArtistList({ artists }: { artists: readonly Artist[] }) {
  if (artists.length === 0) return <p className="muted">No artists yet.</p>;
  return (
    <ul className="artist-list" aria-label="Artists">
      {artists.map((a) => (
        <li key={a.id}>
          <a href={paths.artist(a.id)}>
            <span className="artist-name">{a.name || "Unknown artist"}</span>
            <span className="muted small">
              {plural(a.album_count, "album")} · {plural(a.track_count, "track")}
            </span>
          </a>
        </li>
      ))}
    </ul>
  );
}
