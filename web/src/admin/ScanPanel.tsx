// Scan the library folders, with a progress bar that follows `GET /api/library/scan` live.
import { useEffect, useState } from "react";
import { ApiError } from "../api/client";
import { scanStatus, startScan, type ScanStatus } from "../api/library";
import { humanError } from "../library/humanError";
import { ScanIssues } from "./ScanIssues";
import { scanView } from "./scanProgress";

/** How often the status is read while a scan runs. */
const POLL_MS = 400;

export function ScanPanel() {
  const [status, setStatus] = useState<ScanStatus | null>(null);
  /** Whether this view started (or joined) a scan: the bar shows only then. */
  const [watching, setWatching] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  const [issuesVersion, setIssuesVersion] = useState(0);

  // One look at mount: a scan may already be running (then follow it) or have finished.
  useEffect(() => {
    const ctl = new AbortController();
    scanStatus(ctl.signal).then(
      (s) => {
        setStatus(s);
        if (s.running) setWatching(true);
      },
      (e) => !ctl.signal.aborted && setError(humanError(e, "the scan status")),
    );
    return () => ctl.abort();
  }, []);

  // While watching a running scan, poll until it reports finished.
  const running = status?.running ?? false;
  useEffect(() => {
    if (!watching || !running) return;
    let stop = false;
    const tick = async () => {
      while (!stop) {
        await new Promise((r) => setTimeout(r, POLL_MS));
        if (stop) break;
        try {
          const s = await scanStatus();
          if (stop) break;
          setStatus(s);
          if (!s.running) {
            setIssuesVersion((v) => v + 1);
            break;
          }
        } catch (e) {
          setError(humanError(e, "the scan status"));
          break;
        }
      }
    };
    void tick();
    return () => {
      stop = true;
    };
  }, [watching, running]);

  async function scan() {
    setError(null);
    setStarting(true);
    try {
      setStatus(await startScan());
      setWatching(true);
    } catch (e) {
      if (e instanceof ApiError && e.code === "scan_running") {
        setWatching(true);
        setStatus(await scanStatus().catch(() => null));
      } else {
        setError(humanError(e, "the scan"));
      }
    } finally {
      setStarting(false);
    }
  }

  const view = status ? scanView(status) : null;
  return (
    <section aria-labelledby="scan-title" className="panel">
      <h2 id="scan-title">Library scan</h2>
      <p className="muted">
        Reads the library folders for new, changed and removed files. Unchanged files are skipped, so a rescan is quick.
      </p>
      <button type="button" className="btn primary" onClick={scan} disabled={starting || running}>
        {running ? "Scanning…" : "Scan library"}
      </button>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {view && watching && (
        <div className="scan-progress" data-testid="scan-progress" data-done={view.done ? "true" : "false"}>
          <progress
            id="scan-bar"
            aria-labelledby="scan-label"
            max={1}
            {...(view.value === null ? {} : { value: view.value })}
          />
          <p id="scan-label" role="status" aria-live="polite">
            {view.label}
          </p>
        </div>
      )}
      {view && !watching && (
        <p className="muted small">{view.done ? `Last scan: ${view.summary}` : view.summary}</p>
      )}
      <ScanIssues version={issuesVersion} />
    </section>
  );
}
