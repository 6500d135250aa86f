import { useEffect, type Dispatch } from "react";
import { processing } from "../api/library";
import { uploadLabel, type UploadAction, type UploadItem } from "./uploads";

/** How often a processing track's status is read. */
const POLL_MS = 1000;

/** One file's progress bar and status line; polls the pipeline while the track is processed. */
export function UploadStatus({ item, dispatch }: { item: UploadItem; dispatch: Dispatch<UploadAction> }) {
  const trackId = item.phase === "processing" ? item.track?.id : undefined;
  useEffect(() => {
    if (!trackId) return;
    let stop = false;
    const ctl = new AbortController();
    const poll = async () => {
      while (!stop) {
        try {
          const p = await processing(trackId, ctl.signal);
          if (stop) return;
          dispatch({ type: "processing", key: item.key, status: p.status, reason: p.reason });
          if (p.status === "ready" || p.status === "failed") return;
        } catch {
          if (stop) return; // a failed poll is retried: the status is not lost
        }
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    };
    void poll();
    return () => {
      stop = true;
      ctl.abort();
    };
  }, [trackId, item.key, dispatch]);

  const uploading = item.phase === "uploading" || item.phase === "queued";
  const id = `upload-status-${item.key}`;
  return (
    <>
      {uploading && (
        <progress max={item.size || 1} value={item.sent} aria-labelledby={id} />
      )}
      {item.phase === "processing" && <progress aria-labelledby={id} />}
      <p id={id} className={item.phase === "failed" ? "form-error" : "muted small"} role="status" data-testid="upload-status">
        {uploadLabel(item)}
      </p>
    </>
  );
}
