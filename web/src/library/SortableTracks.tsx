import { useMemo } from "react";
import type { Track } from "../api/types";
import { plural } from "../lib/format";
import { sortTracks, type Sort, type SortKey } from "./sort";
import { TrackTable } from "./TrackTable";

/**
 * A sortable table over a paged list, with "Load more". The rows shown are always in the
 * chosen order; `useSortedTracks` asks the server for that order when not all rows are loaded.
 */
export function SortableTracks({
  items,
  total,
  loading,
  loadMore,
  caption,
  sort,
  onSort,
}: {
  items: readonly Track[];
  total: number | null;
  loading: boolean;
  loadMore: () => void;
  caption: string;
  sort: Sort | null;
  onSort: (key: SortKey) => void;
}) {
  const shown = useMemo(() => (sort ? sortTracks(items, sort) : items), [items, sort]);
  const more = total !== null && items.length < total;
  return (
    <>
      <TrackTable tracks={shown} caption={caption} sort={{ current: sort, onSort }} />
      {total !== null && (
        <p className="muted small" role="status">
          {more ? `Showing ${items.length.toLocaleString("en")} of ${plural(total, "track")}` : plural(total, "track")}
        </p>
      )}
      {more && (
        <button type="button" className="btn" onClick={loadMore} disabled={loading}>
          {loading ? "Loading…" : "Load more"}
        </button>
      )}
    </>
  );
}
