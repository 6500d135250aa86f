import { ApiError } from "../api/client";

/** A sentence for a failed catalog or admin call. */
export function humanError(e: unknown, what = "this"): string {
  if (e instanceof ApiError) {
    if (e.status === 404) return `Couldn't find ${what}. It may have been removed from the library.`;
    if (e.status === 401) return "Your session has ended. Please sign in again.";
    if (e.status === 403) return "Only admins can do that.";
    if (e.status === 429) return "The server is busy with too many requests. Try again in a moment.";
    if (e.status >= 500) return `The server had a problem loading ${what}. Try again in a moment.`;
    return e.message;
  }
  return "Can't reach the Tonearm server. Check your connection and try again.";
}
