import { listArtists } from "../api/library";
import { plural } from "../lib/format";
import { ArtistList } from "./ArtistList";
import { Status } from "./Status";
import { useApi } from "./useApi";
import { usePageTitle } from "./usePageTitle";
import { useShowMore } from "./useShowMore";

export function ArtistsPage() {
  usePageTitle("Artists");
  const artists = useApi("artists", listArtists);
  const { visible, hidden, more } = useShowMore(artists.data?.items ?? [], 200);
  return (
    <div className="page">
      <h1 tabIndex={-1}>Artists</h1>
      {artists.data && <p className="muted">{plural(artists.data.total, "artist")}</p>}
      <Status loading={artists.loading} error={artists.error} what="artists" retry={artists.reload} />
      {artists.data && <ArtistList artists={visible} />}
      {hidden > 0 && (
        <button type="button" className="btn" onClick={more}>
          Show more ({hidden} left)
        </button>
      )}
    </div>
  );
}
