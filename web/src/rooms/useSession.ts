import { useEffect, useState, useSyncExternalStore } from "react";
import { RoomSession, type RoomSnapshot } from "./session";

/** A RoomSession for `roomId`, connected while the component is mounted. */
export function useRoomSession(roomId: string): RoomSession | null {
  const [session, setSession] = useState<RoomSession | null>(null);
  useEffect(() => {
    const s = new RoomSession(roomId);
    s.connect();
    setSession(s);
    return () => {
      s.dispose();
      setSession(null);
    };
  }, [roomId]);
  return session;
}

/** Re-renders on every change of the session's state. */
export function useRoomSnapshot(session: RoomSession): RoomSnapshot {
  return useSyncExternalStore(session.subscribe, session.snapshot);
}
