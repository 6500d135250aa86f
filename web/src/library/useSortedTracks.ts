import { useCallback, useEffect, useMemo, useRef, useState } from "react";
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
  const [serverSort, setServerSort] = useState<Sort | null>(null);
  const baseKey = base ? JSON.stringify(base) : null;
  // A new search starts in the server's default order again.
  const lastBase = useRef(baseKey);
  const sameBase = lastBase.current === baseKey;
  useEffect(() => {
    if (lastBase.current !== baseKey) {
      lastBase.current = baseKey;
      setServerSort(null);
    }
  }, [baseKey]);
  const query = useMemo(
    () => (base && serverSort && sameBase ? { ...base, sort: serverSort.key, order: serverSort.dir } : base),
    [base, serverSort, sameBase],
  );
  const paged = usePagedTracks(query, pageSize, sameBase);
  const { items, total } = paged;
  const onSort = useCallback(
    (key: SortKey) => {
      const next = nextSort(sort, key);
      setSort(next);
      if (sortSource(items.length, total) === "server") setServerSort(next);
    },
    [sort, items.length, total],
  );
  return { ...paged, sort, onSort };
}
