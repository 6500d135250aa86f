import { useCallback, useMemo, useState } from "react";
import type { TrackQuery } from "../api/library";
import { nextSort, type Sort, type SortKey } from "./sort";
import { usePagedTracks, type PagedTracks } from "./usePagedTracks";

export interface SortedTracks extends PagedTracks {
  sort: Sort | null;
  onSort: (key: SortKey) => void;
}

/**
 * Where a new order must come from: the loaded rows when they are the whole listing (sorted
 * here, accent-aware and natural), the server when more rows exist than are loaded (so the
 * first page is the true first page of that order).
 */
export function sortSource(loaded: number, total: number | null): "client" | "server" {
  return total !== null && loaded < total ? "server" : "client";
}

/**
 * A paged track listing (`usePagedTracks`) with a column order. Clicking a column re-orders
 * the loaded rows; when not every row is loaded it also asks the server for that order.
 */
export function useSortedTracks(base: TrackQuery | null, pageSize: number): SortedTracks {
  const [sort, setSort] = useState<Sort | null>(null);
  // The order asked of the server, for the listing it was asked for: a new search starts in
  // the server's default order again.
  const baseKey = base ? JSON.stringify(base) : null;
  const [asked, setAsked] = useState<{ baseKey: string | null; sort: Sort } | null>(null);
  const serverSort = asked && asked.baseKey === baseKey ? asked.sort : null;
  const query = useMemo(
    () => (base && serverSort ? { ...base, sort: serverSort.key, order: serverSort.dir } : base),
    [base, serverSort],
  );
  // Re-ordering keeps the old rows on screen until the new order's first page arrives.
  const paged = usePagedTracks(query, pageSize, serverSort !== null);
  const { items, total } = paged;
  const onSort = useCallback(
    (key: SortKey) => {
      const next = nextSort(sort, key);
      setSort(next);
      if (sortSource(items.length, total) === "server") setAsked({ baseKey, sort: next });
    },
    [sort, items.length, total, baseKey],
  );
  return { ...paged, sort, onSort };
}
