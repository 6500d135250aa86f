// What the rooms pages keep in localStorage: the Socket.IO guest identity (so a reload keeps the
// same name and host rights), host tokens per room (a room secret, shown once by the server),
// and this device's output offset. Private mode without storage just forgets them.

const SESSION = "tonearm.rooms.session";
const HOST = "tonearm.rooms.host.";
const OFFSET = "tonearm.rooms.outputOffsetMs";

function get(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function put(key: string, value: string | null): void {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    /* storage unavailable: keep it in memory only */
  }
}

export const roomStorage = {
  sessionToken: () => get(SESSION),
  setSessionToken: (t: string) => put(SESSION, t),
  hostToken: (roomId: string) => get(HOST + roomId),
  setHostToken: (roomId: string, t: string | null) => put(HOST + roomId, t),
  outputOffsetMs: () => {
    const v = Number(get(OFFSET));
    return Number.isFinite(v) ? v : 0;
  },
  setOutputOffsetMs: (ms: number) => put(OFFSET, String(ms)),
};
