// Drag-and-drop upload: each file is its own request (so one bad file fails alone), two at a
// time, with a progress bar per file, then the track's processing status until it is ready.
import { useEffect, useReducer, useRef, useState, type DragEvent } from "react";
import { usePlayer } from "../player";
import { paths } from "../router/match";
import { formatBytes } from "../lib/format";
import { UploadStatus } from "./UploadStatus";
import { nextQueued, uploadsReducer } from "./uploads";
import { uploadFile } from "./uploadFile";

const PARALLEL = 2;
const ACCEPT = "audio/*,.flac,.mp3,.ogg,.oga,.opus,.m4a,.mp4,.aac,.wav,.aif,.aiff";

export function UploadPanel() {
  const [items, dispatch] = useReducer(uploadsReducer, []);
  const [over, setOver] = useState(false);
  const files = useRef(new Map<number, File>());
  const nextKey = useRef(1);
  const started = useRef(new Set<number>());
  const player = usePlayer();

  function add(list: FileList | File[]) {
    const arr = [...list];
    if (arr.length === 0) return;
    const firstKey = nextKey.current;
    arr.forEach((f, n) => files.current.set(firstKey + n, f));
    nextKey.current += arr.length;
    dispatch({ type: "add", files: arr.map((f) => ({ name: f.name, size: f.size })), firstKey });
  }

  // Start queued files whenever a slot is free.
  useEffect(() => {
    for (const item of nextQueued(items, PARALLEL)) {
      if (started.current.has(item.key)) continue;
      started.current.add(item.key);
      const file = files.current.get(item.key);
      if (!file) continue;
      dispatch({ type: "start", key: item.key });
      uploadFile(file, (sent) => dispatch({ type: "progress", key: item.key, sent })).done.then(
        (track) => dispatch({ type: "uploaded", key: item.key, track }),
        (e: Error) => dispatch({ type: "failed", key: item.key, message: e.message }),
      ).finally(() => files.current.delete(item.key));
    }
  }, [items]);

  function onDrop(e: DragEvent) {
    e.preventDefault();
    setOver(false);
    add(e.dataTransfer.files);
  }

  const finished = items.some((i) => i.phase === "ready" || i.phase === "failed");
  return (
    <section aria-labelledby="upload-title" className="panel">
      <h2 id="upload-title">Upload music</h2>
      <div
        className={`dropzone${over ? " over" : ""}`}
        data-testid="dropzone"
        onDragEnter={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragOver={(e) => {
          e.preventDefault();
          e.dataTransfer.dropEffect = "copy";
        }}
        onDragLeave={(e) => {
          if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setOver(false);
        }}
        onDrop={onDrop}
      >
        <p>
          <strong>Drop audio files here</strong>
        </p>
        <p className="muted small">FLAC, MP3, Ogg, Opus, M4A, WAV or AIFF. Each file is checked by its content.</p>
        <input
          id="upload-input"
          className="visually-hidden-input"
          type="file"
          multiple
          accept={ACCEPT}
          onChange={(e) => {
            if (e.target.files) add(e.target.files);
            e.target.value = ""; // the same file can be chosen again
          }}
        />
        <label htmlFor="upload-input" className="btn">
          Choose files…
        </label>
      </div>
      {items.length > 0 && (
        <ul className="uploads" aria-label="Uploads">
          {items.map((i) => (
            <li key={i.key} className={`upload ${i.phase}`} data-testid="upload-item" data-phase={i.phase}>
              <div className="upload-head">
                <span className="upload-name">{i.name}</span>
                <span className="muted small">{formatBytes(i.size)}</span>
              </div>
              <UploadStatus item={i} dispatch={dispatch} />
              {i.phase === "ready" && i.track && (
                <div className="actions">
                  <button type="button" className="btn small" onClick={() => i.track && player.playQueue([i.track], 0)}>
                    ▶ Play “{i.track.title || i.name}”
                  </button>
                  {i.track.album_id && <a href={paths.album(i.track.album_id)}>Open album</a>}
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      {finished && (
        <button type="button" className="btn small" onClick={() => dispatch({ type: "clearFinished" })}>
          Clear finished
        </button>
      )}
    </section>
  );
}
