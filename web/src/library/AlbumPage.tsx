import { getAlbum } from "../api/library";
import { usePlayer } from "../player";
import { Icon } from "../player/icons";
import { formatTotal, plural } from "../lib/format";
import { paths } from "../router/match";
import { albumQueue, inAlbumOrder } from "./albumPlay";
import { Cover } from "./Cover";
import { Status } from "./Status";
import { TrackTable } from "./TrackTable";
import { useApi } from "./useApi";
import { usePageTitle } from "./usePageTitle";

/** One album: cover, credits, Play / Shuffle / Add to queue, and its tracks in playing order. */
export function AlbumPage({ id }: { id: string }) {
  const res = useApi(`album:${id}`, (s) => getAlbum(id, s));
  const player = usePlayer();
  const album = res.data?.album;
  const tracks = res.data?.tracks ?? [];
  const name = album ? album.name || "Unknown album" : "Album";
  usePageTitle(album?.name ?? "Album");
  // Albums are keyed by tags; the album artist's page is that of the artist of its tracks
  // when they agree (compilations have no single artist page).
  const artistId = tracks.find((t) => t.artist === album?.album_artist)?.artist_id ?? null;
  // The heading stays one element from loading to loaded: the router focuses it on arrival.
  return (
    <div className="page">
      <div className="album-head">
        <Cover trackId={album?.cover_track_id ?? null} name={album?.name ?? ""} size={240} />
        <div>
          <p className="eyebrow">Album</p>
          <h1 tabIndex={-1}>{name}</h1>
          {album && (
            <>
              <p className="album-credits">
                {artistId ? <a href={paths.artist(artistId)}>{album.album_artist}</a> : album.album_artist || "Unknown artist"}
                {album.year ? ` · ${album.year}` : ""}
              </p>
              <p className="muted">
                {plural(album.track_count, "track")} · {formatTotal(album.duration_ms)}
              </p>
              <div className="actions">
                <button
                  type="button"
                  className="btn primary"
                  aria-label={`Play ${name}`}
                  disabled={tracks.length === 0}
                  onClick={() => player.playQueue(albumQueue(tracks, "play"), 0)}
                >
                  <Icon name="play" size={20} /> Play
                </button>
                <button
                  type="button"
                  className="btn"
                  aria-label={`Shuffle ${name}`}
                  disabled={tracks.length === 0}
                  onClick={() => player.playQueue(albumQueue(tracks, "shuffle"), 0)}
                >
                  <Icon name="shuffle" size={20} /> Shuffle
                </button>
                <button type="button" className="btn" disabled={tracks.length === 0} onClick={() => player.enqueue(inAlbumOrder(tracks))}>
                  Add to queue
                </button>
              </div>
            </>
          )}
        </div>
      </div>
      <Status loading={res.loading} error={res.error} what="this album" retry={res.reload} />
      {album && <TrackTable tracks={tracks} caption={`Tracks of ${album.name}`} trackNumbers hideAlbum />}
    </div>
  );
}
