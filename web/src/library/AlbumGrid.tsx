import type { Album } from "../api/library";
import { Icon } from "../player/icons";
import { paths } from "../router/match";
import { Cover } from "./Cover";
import { useAlbumPlay } from "./useAlbumPlay";

/**
 * Albums as a responsive grid of covers with name, artist and year. Each card links to its
 * album; Play and Shuffle buttons sit over the cover's corner (beside the link, not in it, so
 * they never navigate) and fetch the album's tracks to play them (`useAlbumPlay`).
 */
export function AlbumGrid({ albums, label }: { albums: readonly Album[]; label: string }) {
  const play = useAlbumPlay();
  if (albums.length === 0) return <p className="muted">No albums yet.</p>;
  return (
    <>
      {play.error && (
        <p className="form-error" role="alert">
          {play.error}
        </p>
      )}
      <ul className="album-grid" aria-label={label}>
        {albums.map((a) => {
          const name = a.name || "Unknown album";
          const busy = play.pending?.id === a.id ? play.pending.mode : null;
          return (
            <li key={a.id} className="album-item">
              <a className="album-card" href={paths.album(a.id)}>
                <Cover trackId={a.cover_track_id} name={a.name} size={200} />
                <span className="album-name">{name}</span>
                <span className="album-meta">
                  {a.album_artist || "Unknown artist"}
                  {a.year ? ` · ${a.year}` : ""}
                </span>
              </a>
              <div className={`album-actions${busy ? " busy" : ""}`}>
                <button
                  type="button"
                  className="album-action"
                  aria-label={`Shuffle ${name}`}
                  title="Shuffle"
                  aria-busy={busy === "shuffle"}
                  onClick={() => play.start(a.id, "shuffle")}
                >
                  <Icon name="shuffle" size={20} />
                </button>
                <button
                  type="button"
                  className="album-action primary"
                  aria-label={`Play ${name}`}
                  title="Play"
                  aria-busy={busy === "play"}
                  onClick={() => play.start(a.id, "play")}
                >
                  <Icon name="play" size={24} />
                </button>
              </div>
            </li>
          );
        })}
      </ul>
    </>
  );
}
