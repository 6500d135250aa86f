// One file to `POST /api/tracks` by XMLHttpRequest: fetch() cannot report upload progress.
// The Authorization header carries the session; an expired token is refreshed once.
import { accessToken, refresh } from "../api/client";
import type { Track } from "../api/types";
import { formatBytes } from "../lib/format";

export interface UploadHandle {
  /** The catalogued track, or a rejection whose message is for the user. */
  done: Promise<Track | null>;
  abort: () => void;
}

/** The server's `{"error": {"message"}}`, or a sentence for a status without one. */
function failureMessage(xhr: XMLHttpRequest, file: File): string {
  try {
    const body = JSON.parse(xhr.responseText) as { error?: { message?: string } };
    if (body.error?.message) return capitalise(body.error.message);
  } catch {
    /* not JSON: a proxy or the body-size layer answered */
  }
  switch (xhr.status) {
    case 413:
      return `${file.name} (${formatBytes(file.size)}) is larger than the server accepts.`;
    case 401:
      return "Your session has ended. Sign in again and retry.";
    case 403:
      return "Only admins can upload.";
    case 429:
      return "Too many requests: wait a moment and retry.";
    default:
      return `Upload failed (HTTP ${xhr.status}).`;
  }
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function send(file: File, onProgress: (sent: number) => void, signal: { xhr: XMLHttpRequest | null }) {
  return new Promise<XMLHttpRequest>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    signal.xhr = xhr;
    xhr.open("POST", "/api/tracks");
    const t = accessToken();
    if (t) xhr.setRequestHeader("Authorization", `Bearer ${t}`);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => resolve(xhr);
    xhr.onerror = () => reject(new Error("The connection to the server was lost during the upload."));
    xhr.ontimeout = () => reject(new Error("The upload timed out."));
    xhr.onabort = () => reject(new Error("Upload cancelled."));
    const form = new FormData();
    form.append("file", file, file.name);
    xhr.send(form);
  });
}

/** Uploads `file`, reporting bytes sent; resolves with the new track. */
export function uploadFile(file: File, onProgress: (sent: number) => void): UploadHandle {
  const current: { xhr: XMLHttpRequest | null } = { xhr: null };
  const done = (async () => {
    let xhr = await send(file, onProgress, current);
    if (xhr.status === 401 && (await refresh())) xhr = await send(file, onProgress, current);
    if (xhr.status !== 201) throw new Error(failureMessage(xhr, file));
    const body = JSON.parse(xhr.responseText) as { items?: Track[] };
    return body.items?.[0] ?? null;
  })();
  return { done, abort: () => current.xhr?.abort() };
}
