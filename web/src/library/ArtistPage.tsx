import { useState } from "react";
import { getArtist, listTracks, MAX_PAGE } from "../api/library";
import { usePlayer } from "../player";
import { plural } from "../lib/format";
import { AlbumGrid } from "./AlbumGrid";
import { humanError } from "./humanError";
import { Status } from "./Status";
import { useApi } from "./useApi";
import { usePageTitle } from "./usePageTitle";

/** One artist: their albums, and a button that plays everything they appear on. */
export function ArtistPage({ id }: { id: string }) {
  const res = useApi(`artist:${id}`, (s) => getArtist(id, s));
  const player = usePlayer();
  const [playError, setPlayError] = useState<string | null>(null);
  const artist = res.data?.artist;
  usePageTitle(artist?.name ?? "Artist");

  async function playAll() {
    setPlayError(null);
    try {
      const page = await listTracks({ artist: id, limit: MAX_PAGE });
      if (page.items.length) player.playQueue(page.items, 0);
    } catch (e) {
      setPlayError(humanError(e, "this artist's tracks"));
    }
  }

  // The heading stays one element from loading to loaded: the router focuses it on arrival.
  return (
    <div className="page">
      <p className="eyebrow">Artist</p>
      <h1 tabIndex={-1}>{artist ? artist.name || "Unknown artist" : "Artist"}</h1>
      <Status loading={res.loading} error={res.error} what="this artist" retry={res.reload} />
      {artist && res.data && (
        <>
          <p className="muted">
            {plural(artist.album_count, "album")} · {plural(artist.track_count, "track")}
          </p>
          <div className="actions">
            <button type="button" className="btn primary" onClick={playAll} disabled={artist.track_count === 0}>
              ▶ Play all
            </button>
          </div>
          {playError && (
            <p className="form-error" role="alert">
              {playError}
            </p>
          )}
          <h2>Albums</h2>
          <AlbumGrid albums={res.data.albums} label={`Albums by ${artist.name}`} />
        </>
      )}
    </div>
  );
}
