// The room's share link with a Copy button (Clipboard API, falling back to selecting the text
// and the old copy command where the API is missing or refused).
import { useId, useRef, useState } from "react";

export function ShareLink({ url }: { url: string }) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [status, setStatus] = useState("");

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(url);
      setStatus("Link copied.");
      return;
    } catch {
      /* no permission, or not a secure page: fall back */
    }
    const el = input.current;
    el?.focus();
    el?.select();
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch {
      ok = false;
    }
    setStatus(ok ? "Link copied." : "Copy the selected link with Ctrl+C (⌘C on a Mac).");
  };

  return (
    <div className="room-share">
      <label htmlFor={`${id}-link`}>Share link</label>
      <div className="room-share-row">
        <input id={`${id}-link`} ref={input} value={url} readOnly onFocus={(e) => e.currentTarget.select()} data-testid="share-link" />
        <button className="btn" type="button" onClick={copy}>
          Copy
        </button>
      </div>
      <p className="hint" role="status" aria-live="polite">
        {status}
      </p>
    </div>
  );
}
