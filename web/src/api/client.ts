// The one way the app talks to the server's JSON API: it attaches the access token, refreshes
// it once on a 401 (refresh tokens rotate on every use), and turns the server's error body
// `{"error": {"code", "message"}}` into an ApiError with a human message.

/** A signed-in session as the server returns it from login/refresh. */
export interface Session {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  user: { id: string; name: string; role: string };
}

/** An API failure: HTTP status, the server's error code, and a message fit for a person. */
export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
  ) {
    super(message);
  }
}

const KEY = "tonearm.session";
let session: Session | null = load();
const listeners = new Set<(s: Session | null) => void>();

function load(): Session | null {
  try {
    const raw = globalThis.localStorage?.getItem(KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

/** The current session, or null when signed out. */
export function currentSession(): Session | null {
  return session;
}

/** The current access token (for media URLs and hls.js `xhrSetup`), or null. */
export function accessToken(): string | null {
  return session?.access_token ?? null;
}

/** Replaces the session (null signs out) and tells subscribers. */
export function setSession(s: Session | null): void {
  session = s;
  try {
    if (s) globalThis.localStorage?.setItem(KEY, JSON.stringify(s));
    else globalThis.localStorage?.removeItem(KEY);
  } catch {
    /* private mode: the session lives in memory only */
  }
  for (const l of listeners) l(s);
}

/** Calls `fn` whenever the session changes; returns the unsubscribe function. */
export function onSession(fn: (s: Session | null) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

let refreshing: Promise<boolean> | null = null;

/** Trades the refresh token for a new pair; concurrent callers share one refresh. */
export function refresh(): Promise<boolean> {
  if (!session) return Promise.resolve(false);
  refreshing ??= (async () => {
    try {
      const r = await fetch("/api/auth/refresh", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ refresh_token: session?.refresh_token }),
      });
      if (!r.ok) {
        if (r.status === 401) setSession(null);
        return false;
      }
      setSession((await r.json()) as Session);
      return true;
    } catch {
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

async function toError(r: Response): Promise<ApiError> {
  let code = "http_" + r.status;
  let message = r.statusText || `request failed (${r.status})`;
  try {
    const body = await r.json();
    if (body?.error) {
      code = body.error.code ?? code;
      message = body.error.message ?? message;
    }
  } catch {
    /* not JSON */
  }
  return new ApiError(r.status, code, message);
}

/**
 * Fetches `path` with the session's token; a 401 refreshes once and retries. Returns the
 * raw Response when `raw` is set, else the parsed JSON (undefined for 204).
 */
export async function apiFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const send = () => {
    const headers = new Headers(init.headers);
    const t = accessToken();
    if (t && !headers.has("authorization")) headers.set("authorization", `Bearer ${t}`);
    if (init.body && typeof init.body === "string" && !headers.has("content-type")) {
      headers.set("content-type", "application/json");
    }
    return fetch(path, { ...init, headers });
  };
  let r = await send();
  if (r.status === 401 && session && (await refresh())) r = await send();
  if (!r.ok) throw await toError(r);
  return r;
}

/** `apiFetch` and parse JSON (undefined for an empty answer). */
export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const r = await apiFetch(path, init);
  if (r.status === 204) return undefined as T;
  const text = await r.text();
  return (text ? JSON.parse(text) : undefined) as T;
}
