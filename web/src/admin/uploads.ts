// The upload list as a pure reducer: each dropped file goes queued → uploading (bytes sent) →
// processing (the server's pipeline, polled) → ready, or failed with the server's reason.
import type { ProcessingState } from "../api/library";
import type { Track } from "../api/types";
import { formatBytes } from "../lib/format";

export type Phase = "queued" | "uploading" | "processing" | "ready" | "failed";

export interface UploadItem {
  key: number;
  name: string;
  size: number;
  phase: Phase;
  /** Bytes sent so far (upload progress). */
  sent: number;
  track: Track | null;
  /** The pipeline's state while processing. */
  processing: ProcessingState | null;
  message: string | null;
}

export type UploadAction =
  | { type: "add"; files: { name: string; size: number }[]; firstKey: number }
  | { type: "start"; key: number }
  | { type: "progress"; key: number; sent: number }
  | { type: "uploaded"; key: number; track: Track | null }
  | { type: "processing"; key: number; status: ProcessingState; reason: string | null }
  | { type: "failed"; key: number; message: string }
  | { type: "clearFinished" };

function update(items: UploadItem[], key: number, f: (i: UploadItem) => UploadItem): UploadItem[] {
  return items.map((i) => (i.key === key ? f(i) : i));
}

export function uploadsReducer(items: UploadItem[], a: UploadAction): UploadItem[] {
  switch (a.type) {
    case "add":
      return [
        ...items,
        ...a.files.map((f, n) => ({
          key: a.firstKey + n,
          name: f.name,
          size: f.size,
          phase: "queued" as const,
          sent: 0,
          track: null,
          processing: null,
          message: null,
        })),
      ];
    case "start":
      return update(items, a.key, (i) => ({ ...i, phase: "uploading", sent: 0 }));
    case "progress":
      return update(items, a.key, (i) => (i.phase === "uploading" ? { ...i, sent: Math.min(a.sent, i.size) } : i));
    case "uploaded":
      return update(items, a.key, (i) => ({
        ...i,
        sent: i.size,
        track: a.track,
        // No track in the answer means nothing to follow: treat the upload itself as the end.
        phase: a.track ? "processing" : "ready",
        processing: a.track ? "pending" : null,
      }));
    case "processing":
      return update(items, a.key, (i) => {
        if (i.phase !== "processing") return i;
        if (a.status === "ready") return { ...i, phase: "ready", processing: "ready", message: null };
        if (a.status === "failed") {
          return { ...i, phase: "failed", processing: "failed", message: a.reason ? `Processing failed: ${a.reason}` : "Processing failed." };
        }
        return { ...i, processing: a.status, message: a.reason ? `Retrying after: ${a.reason}` : null };
      });
    case "failed":
      return update(items, a.key, (i) => ({ ...i, phase: "failed", message: a.message }));
    case "clearFinished":
      return items.filter((i) => i.phase !== "ready" && i.phase !== "failed");
  }
}

/** Files waiting for an upload slot, oldest first. */
export function nextQueued(items: readonly UploadItem[], maxActive: number): UploadItem[] {
  const active = items.filter((i) => i.phase === "uploading").length;
  return items.filter((i) => i.phase === "queued").slice(0, Math.max(0, maxActive - active));
}

/** The status line of one file. */
export function uploadLabel(i: UploadItem): string {
  switch (i.phase) {
    case "queued":
      return "Waiting to upload";
    case "uploading": {
      const pct = i.size > 0 ? Math.floor((100 * i.sent) / i.size) : 0;
      return `Uploading: ${pct}% (${formatBytes(i.sent)} of ${formatBytes(i.size)})`;
    }
    case "processing":
      return i.processing === "processing" ? "Processing: packaging for streaming…" : "Processing: waiting for a worker…";
    case "ready":
      return "Ready to play";
    case "failed":
      return i.message ?? "Failed";
  }
}
