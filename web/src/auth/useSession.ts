import { useSyncExternalStore } from "react";
import { currentSession, onSession, type Session } from "../api/client";

const subscribe = (fn: () => void) => onSession(() => fn());

/** The signed-in session (null when signed out); re-renders on sign-in, refresh and sign-out. */
export function useSession(): Session | null {
  return useSyncExternalStore(subscribe, currentSession);
}
