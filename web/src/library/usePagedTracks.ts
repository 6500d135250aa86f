import { useCallback, useEffect, useRef, useState } from "react";
import { listTracks, type TrackQuery } from "../api/library";
import type { Track } from "../api/types";

export interface PagedTracks {
  items: Track[];
  total: number | null;
  loading: boolean;
  error: unknown;
  /** Fetches the next page (no-op while loading or when everything is loaded). */
  loadMore: () => void;
  /** Starts over from the first page (after an error). */
  retry: () => void;
}

/**
 * Tracks matching `query`, a page at a time (`limit`/`offset`). A new query starts over and
 * cancels the old one's requests, so fast typing never shows an older query's answer.
 * With `keepStale`, the previous rows stay visible until the new query's first page arrives.
 */
export function usePagedTracks(query: TrackQuery | null, pageSize = 100, keepStale = false): PagedTracks {
  const key = query ? JSON.stringify(query) : null;
  const [state, setState] = useState<{ key: string | null; items: Track[]; total: number | null; error: unknown }>({
    key: null,
    items: [],
    total: null,
    error: null,
  });
  const [loading, setLoading] = useState(false);
  const ctl = useRef<AbortController | null>(null);

  const fetchPage = useCallback(
    (offset: number, reset: boolean) => {
      if (key === null) return;
      ctl.current?.abort();
      const c = new AbortController();
      ctl.current = c;
      setLoading(true);
      listTracks({ ...(JSON.parse(key) as TrackQuery), limit: pageSize, offset }, c.signal).then(
        (page) => {
          if (c.signal.aborted) return;
          setState((s) => ({
            key,
            items: reset || s.key !== key ? page.items : [...s.items, ...page.items],
            total: page.total,
            error: null,
          }));
          setLoading(false);
        },
        (error) => {
          if (c.signal.aborted) return;
          setState((s) => ({ ...s, key, error }));
          setLoading(false);
        },
      );
    },
    [key, pageSize],
  );

  useEffect(() => {
    fetchPage(0, true);
    return () => ctl.current?.abort();
  }, [fetchPage]);

  // `keepStale`: while a re-ordered listing loads, the old rows stay (the table, and the
  // focused column button, do not vanish and come back).
  const current = state.key === key;
  const stale = !current && keepStale;
  const items = current || stale ? state.items : [];
  const total = current || stale ? state.total : null;
  const loadMore = useCallback(() => {
    if (!loading && total !== null && items.length < total) fetchPage(items.length, false);
  }, [loading, total, items.length, fetchPage]);

  const retry = useCallback(() => fetchPage(items.length, items.length === 0), [fetchPage, items.length]);

  return {
    items,
    total,
    loading: loading || (key !== null && !current),
    error: current ? state.error : null,
    loadMore,
    retry,
  };
}
