// Instant search: the header's search box updates `q` in the URL as you type; this page waits
// for a short pause, then asks the server for matching tracks (accent- and case-insensitive)
// and filters the album and artist lists the same way.
import { useMemo } from "react";
import { listAlbums, listArtists } from "../api/library";
import { AlbumGrid } from "./AlbumGrid";
import { ArtistList } from "./ArtistList";
import { matchesAll } from "./fold";
import { searchSummary } from "./searchSummary";
import { Status } from "./Status";
import { SortableTracks } from "./SortableTracks";
import { useApi } from "./useApi";
import { useDebouncedValue } from "./useDebouncedValue";
import { useSortedTracks } from "./useSortedTracks";
import { usePageTitle } from "./usePageTitle";

/** Quiet time before a keystroke becomes a request. */
export const SEARCH_DEBOUNCE_MS = 200;

export function SearchPage({ q }: { q: string }) {
  const query = useDebouncedValue(q.trim(), SEARCH_DEBOUNCE_MS);
  usePageTitle(query ? `Search: ${query}` : "Search");
  const trackQuery = useMemo(() => (query ? { q: query } : null), [query]);
  const tracks = useSortedTracks(trackQuery, 50);
  const albums = useApi(query ? "albums" : null, listAlbums);
  const artists = useApi(query ? "artists" : null, listArtists);
  const albumHits = useMemo(
    () => (albums.data?.items ?? []).filter((a) => matchesAll(`${a.name} ${a.album_artist}`, query)).slice(0, 12),
    [albums.data, query],
  );
  const artistHits = useMemo(
    () => (artists.data?.items ?? []).filter((a) => matchesAll(a.name, query)).slice(0, 12),
    [artists.data, query],
  );
  const settled = query === q.trim() && !tracks.loading;

  return (
    <div className="page">
      <h1 tabIndex={-1}>Search</h1>
      {!q.trim() && <p className="muted">Type in the search box above: results appear as you type.</p>}
      {query && (
        <p className="muted" role="status" aria-live="polite" data-testid="search-summary">
          {settled && tracks.total !== null
            ? searchSummary(query, { tracks: tracks.total, albums: albumHits.length, artists: artistHits.length })
            : `Searching for “${q.trim()}”…`}
        </p>
      )}
      <Status error={tracks.error} what="search results" retry={tracks.retry} />
      {artistHits.length > 0 && (
        <section aria-labelledby="search-artists">
          <h2 id="search-artists">Artists</h2>
          <ArtistList artists={artistHits} />
        </section>
      )}
      {albumHits.length > 0 && (
        <section aria-labelledby="search-albums">
          <h2 id="search-albums">Albums</h2>
          <AlbumGrid albums={albumHits} label="Matching albums" />
        </section>
      )}
      {query && tracks.total !== null && (
        <section aria-labelledby="search-tracks">
          <h2 id="search-tracks">Tracks</h2>
          {tracks.total === 0 ? (
            <p className="muted">No tracks match “{query}”.</p>
          ) : (
            <SortableTracks
              items={tracks.items}
              total={tracks.total}
              loading={tracks.loading}
              loadMore={tracks.loadMore}
              caption={`Tracks matching ${query}`}
              sort={tracks.sort}
              onSort={tracks.onSort}
            />
          )}
        </section>
      )}
    </div>
  );
}
