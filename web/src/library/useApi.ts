import { useCallback, useEffect, useState } from "react";

export interface Loaded<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/**
 * Runs `load` when `key` changes (aborting the previous run, so a slow stale answer never
 * overwrites a newer one) and exposes its result. A null key loads nothing.
 */
export function useApi<T>(key: string | null, load: (signal: AbortSignal) => Promise<T>): Loaded<T> {
  const [state, setState] = useState<{ key: string | null; data: T | null; error: unknown }>({
    key: null,
    data: null,
    error: null,
  });
  const [nonce, setNonce] = useState(0);
  useEffect(() => {
    if (key === null) return;
    const ctl = new AbortController();
    load(ctl.signal).then(
      (data) => !ctl.signal.aborted && setState({ key, data, error: null }),
      (error) => !ctl.signal.aborted && setState({ key, data: null, error }),
    );
    return () => ctl.abort();
    // `load` is recreated each render; `key` names what it loads.
  }, [key, nonce]);
  const reload = useCallback(() => setNonce((n) => n + 1), []);
  const current = state.key === key;
  return {
    data: current ? state.data : null,
    error: current ? state.error : null,
    loading: key !== null && !current,
    reload,
  };
}
