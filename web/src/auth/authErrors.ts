// One human sentence for every way signing in or setting up can fail, from the server's
// status and error code (crates/tonearm-server/src/routes/auth.rs, limits.rs).
import { formatWait } from "../lib/format";
import type { AuthFailure } from "./authApi";

/**
 * Lockouts and plain rate limits are both 429 `rate_limited`; a lockout starts at one minute
 * and doubles, while the per-minute limit asks for less, so the wait tells them apart.
 */
const LOCKOUT_SECS = 60;

export type AuthAction = "signin" | "setup";

/** The message to show for `f`, worded for the form it came from. */
export function authErrorMessage(f: AuthFailure, action: AuthAction): string {
  if (f.status === 0) {
    return "Can't reach the Tonearm server. Check your connection and try again.";
  }
  if (f.status === 429) {
    const wait = f.retryAfter ?? parseRetry(f.message);
    const when = wait ? `in ${formatWait(wait)}` : "in a little while";
    if (action === "signin" && wait !== null && wait >= LOCKOUT_SECS) {
      return `Too many failed sign-in attempts for this name: signing in is locked for now. Try again ${when}.`;
    }
    return `Too many attempts. Please wait and try again ${when}.`;
  }
  switch (f.code) {
    case "invalid_credentials":
      return "Wrong username or password.";
    case "bad_setup_token":
      return "That setup token is wrong or has already been used. Use the token printed in the server's log when it started.";
    case "already_set_up":
      return "This server already has an admin. Sign in instead.";
  }
  if (f.status === 400) {
    // The server's policy messages are already plain English ("password must have at least 8
    // characters", "user names have 1 to 64 printable characters"): show them, capitalised.
    return f.message ? capitalise(f.message) + "." : "Please check the form and try again.";
  }
  if (f.status === 401) return "Wrong username or password.";
  if (f.status === 403) return "You are not allowed to do that.";
  if (f.status >= 500) return "The server had a problem. Please try again in a moment.";
  return f.message ? capitalise(f.message) + "." : `Something went wrong (HTTP ${f.status}).`;
}

/** "too many requests; retry in 12 s" → 12 (for a 429 whose header a proxy dropped). */
export function parseRetry(message: string): number | null {
  const m = /retry in (\d+)\s*s/.exec(message);
  return m ? Number(m[1]) : null;
}

function capitalise(s: string): string {
  const t = s.replace(/[.\s]+$/, "");
  return t.charAt(0).toUpperCase() + t.slice(1);
}

/** Client-side checks that mirror the server's policy, so most mistakes never leave the form. */
export function validateSetup(v: {
  token: string;
  username: string;
  password: string;
  confirm: string;
}): string | null {
  if (!v.token.trim()) return "Enter the setup token printed in the server's log.";
  if (!v.username) return "Choose a username.";
  if (v.username.trim() !== v.username) return "Usernames cannot start or end with a space.";
  if ([...v.username].length > 64) return "Usernames have at most 64 characters.";
  if ([...v.password].length < 8) return "Passwords need at least 8 characters.";
  if (new TextEncoder().encode(v.password).length > 1024) return "Passwords can be at most 1024 bytes.";
  if (v.password !== v.confirm) return "The two passwords do not match.";
  return null;
}
