// The sign-in endpoints, called directly (not through `api()`): their failures are the
// user's to read, so the status, error code and Retry-After header are all kept.
import { api, setSession, type Session } from "../api/client";

/** Why an auth call failed: status 0 means the server could not be reached. */
export interface AuthFailure {
  status: number;
  code: string;
  message: string;
  /** Seconds from the Retry-After header of a 429. */
  retryAfter: number | null;
}

export class AuthError extends Error {
  constructor(public failure: AuthFailure) {
    super(failure.message);
  }
}

async function post(path: string, body: unknown): Promise<Response> {
  let r: Response;
  try {
    r = await fetch(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch {
    throw new AuthError({ status: 0, code: "network", message: "network error", retryAfter: null });
  }
  if (r.ok) return r;
  let code = `http_${r.status}`;
  let message = r.statusText;
  try {
    const b = (await r.json()) as { error?: { code?: string; message?: string } };
    code = b.error?.code ?? code;
    message = b.error?.message ?? message;
  } catch {
    /* not JSON (a proxy's error page) */
  }
  const ra = Number(r.headers.get("retry-after"));
  throw new AuthError({
    status: r.status,
    code,
    message,
    retryAfter: Number.isFinite(ra) && ra > 0 ? ra : null,
  });
}

/** Signs in and stores the session (which re-renders the app as signed in). */
export async function login(username: string, password: string): Promise<Session> {
  const r = await post("/api/auth/login", { username, password });
  const s = (await r.json()) as Session;
  setSession(s);
  return s;
}

/** Creates the first admin with the one-time token the server printed at start-up. */
export async function setupAdmin(token: string, username: string, password: string): Promise<void> {
  await post("/api/setup", { token, username, password });
}

/** Whether the server still needs its first admin (`GET /api/setup` → `{needed}`). */
export async function setupNeeded(): Promise<boolean> {
  try {
    const r = await fetch("/api/setup");
    if (!r.ok) return false;
    return ((await r.json()) as { needed?: boolean }).needed === true;
  } catch {
    return false;
  }
}

/** Ends the session on the server, and locally whatever the server says. */
export async function logout(): Promise<void> {
  try {
    await api("/api/auth/logout", { method: "POST" });
  } catch {
    /* already expired or offline: forgetting it locally is what matters */
  } finally {
    setSession(null);
  }
}
