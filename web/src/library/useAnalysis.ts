import { useCallback, useEffect, useState } from "react";
import { getAnalysis } from "../api/library";
import { pollAnalysis, type AnalysisView } from "./analysisPoll";

/**
 * A track's analysis, polled every few seconds while the server is still working on it; polling
 * stops when it is settled or the component unmounts. `reload` asks again (after a failure).
 */
export function useAnalysis(trackId: string): { view: AnalysisView; reload: () => void } {
  const [state, setState] = useState<{ trackId: string; view: AnalysisView } | null>(null);
  const [nonce, setNonce] = useState(0);
  useEffect(() => pollAnalysis((s) => getAnalysis(trackId, s), (view) => setState({ trackId, view })), [trackId, nonce]);
  const reload = useCallback(() => {
    setState(null);
    setNonce((n) => n + 1);
  }, []);
  const view: AnalysisView = state && state.trackId === trackId ? state.view : { phase: "loading" };
  return { view, reload };
}
