import { useEffect, useState } from "react";

function secondsUntil(until: number | null): number {
  return until ? Math.max(0, Math.ceil((until - Date.now()) / 1000)) : 0;
}

/** Whole seconds left until `until` (ms since epoch), ticking each second; 0 once passed. */
export function useCountdown(until: number | null): number {
  const [secs, setSecs] = useState(() => secondsUntil(until));
  useEffect(() => {
    setSecs(secondsUntil(until));
    if (!until) return;
    const t = setInterval(() => {
      const s = secondsUntil(until);
      setSecs(s);
      if (s === 0) clearInterval(t);
    }, 1000);
    return () => clearInterval(t);
  }, [until]);
  return secs;
}
