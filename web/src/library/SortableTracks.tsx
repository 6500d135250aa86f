import { useMemo, useState } from "react";
import type { Track } from "../api/types";
import { plural } from "../lib/format";
import { nextSort, sortTracks, type Sort } from "./sort";
import { TrackTable } from "./TrackTable";

/**
 * A sortable table over a paged list, with "Load more". Sorting orders the loaded rows (the
 * server pages in library order); the count says how many of the total are loaded.
 */
export function SortableTracks({
  items,
  total,
  loading,
  loadMore,
  caption,
}: {
  items: readonly Track[];
  total: number | null;
  loading: boolean;
  loadMore: () => void;
  caption: string;
}) {
  const [sort, setSort] = useState<Sort | null>(null);
  const shown = useMemo(() => (sort ? sortTracks(items, sort) : items), [items, sort]);
  const more = total !== null && items.length < total;
  return (
    <>
      <TrackTable tracks={shown} caption={caption} sort={{ current: sort, onSort: (k) => setSort((s) => nextSort(s, k)) }} />
      {total !== null && (
        <p className="muted small" role="status">
          {more ? `Showing ${items.length.toLocaleString("en")} of ${plural(total, "track")}` : plural(total, "track")}
          {more && sort ? " (sorting applies to the loaded tracks)" : ""}
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
