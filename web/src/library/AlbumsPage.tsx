import { listAlbums } from "../api/library";
import { plural } from "../lib/format";
import { AlbumGrid } from "./AlbumGrid";
import { Status } from "./Status";
import { useApi } from "./useApi";
import { usePageTitle } from "./usePageTitle";
import { useShowMore } from "./useShowMore";

export function AlbumsPage() {
  usePageTitle("Albums");
  const albums = useApi("albums", listAlbums);
  const { visible, hidden, more } = useShowMore(albums.data?.items ?? [], 60);
  return (
    <div className="page">
      <h1 tabIndex={-1}>Albums</h1>
      {albums.data && <p className="muted">{plural(albums.data.total, "album")}</p>}
      <Status loading={albums.loading} error={albums.error} what="albums" retry={albums.reload} />
      {albums.data && <AlbumGrid albums={visible} label="Albums" />}
      {hidden > 0 && (
        <button type="button" className="btn" onClick={more}>
          Show more ({hidden} left)
        </button>
      )}
    </div>
  );
}
