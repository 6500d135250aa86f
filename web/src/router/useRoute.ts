import { useMemo, useSyncExternalStore } from "react";
import { matchRoute, type Route } from "./match";
import { subscribe } from "./history";

const snapshot = () => location.pathname + location.search;

/** The current URL's Route (stable while the URL is); re-renders on every navigation. */
export function useRoute(): Route {
  const url = useSyncExternalStore(subscribe, snapshot);
  return useMemo(() => {
    const q = url.indexOf("?");
    return matchRoute(q < 0 ? url : url.slice(0, q), q < 0 ? "" : url.slice(q));
  }, [url]);
}
