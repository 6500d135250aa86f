import { listAlbums, listArtists, listTracks } from "../api/library";
import { plural } from "../lib/format";
import { paths } from "../router/match";
import { AlbumGrid } from "./AlbumGrid";
import { ArtistList } from "./ArtistList";
import { Status } from "./Status";
import { useApi } from "./useApi";
import { usePageTitle } from "./usePageTitle";

const PREVIEW = 12;

/** The landing screen: the library's size and a first look at its albums and artists. */
export function LibraryHome() {
  usePageTitle("Library");
  const albums = useApi("albums", listAlbums);
  const artists = useApi("artists", listArtists);
  const tracks = useApi("track-count", (s) => listTracks({ limit: 1 }, s));
  return (
    <div className="page">
      <h1 tabIndex={-1}>Library</h1>
      {albums.data && artists.data && tracks.data && (
        <p className="muted" data-testid="library-stats">
          {plural(artists.data.total, "artist")} · {plural(albums.data.total, "album")} ·{" "}
          {plural(tracks.data.total, "track")}
        </p>
      )}
      <section aria-labelledby="home-albums">
        <div className="section-head">
          <h2 id="home-albums">Albums</h2>
          <a href={paths.albums()}>All albums</a>
        </div>
        <Status loading={albums.loading} error={albums.error} what="albums" retry={albums.reload} />
        {albums.data && <AlbumGrid albums={albums.data.items.slice(0, PREVIEW)} label="Albums" />}
      </section>
      <section aria-labelledby="home-artists">
        <div className="section-head">
          <h2 id="home-artists">Artists</h2>
          <a href={paths.artists()}>All artists</a>
        </div>
        <Status loading={artists.loading} error={artists.error} what="artists" retry={artists.reload} />
        {artists.data && <ArtistList artists={artists.data.items.slice(0, PREVIEW)} />}
      </section>
      {tracks.data && tracks.data.total === 0 && (
        <p className="notice">
          The library is empty. An admin can add music on the <a href={paths.admin()}>Admin</a> screen.
        </p>
      )}
    </div>
  );
}
