import type { Album } from "../api/library";
import { paths } from "../router/match";
import { Cover } from "./Cover";

/** Albums as a responsive grid of covers with name, artist and year. */
export function AlbumGrid({ albums, label }: { albums: readonly Album[]; label: string }) {
  if (albums.length === 0) return <p className="muted">No albums yet.</p>;
  return (
    <ul className="album-grid" aria-label={label}>
      {albums.map((a) => (
        <li key={a.id}>
          <a className="album-card" href={paths.album(a.id)}>
            <Cover trackId={a.cover_track_id} name={a.name} size={200} />
            <span className="album-name">{a.name || "Unknown album"}</span>
            <span className="album-meta">
              {a.album_artist || "Unknown artist"}
              {a.year ? ` · ${a.year}` : ""}
            </span>
          </a>
        </li>
      ))}
    </ul>
  );
}
