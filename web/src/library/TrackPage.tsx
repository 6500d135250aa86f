import type { ReactNode } from "react";
import { getTrack } from "../api/library";
import type { Analysis, Track } from "../api/types";
import { usePlayer } from "../player";
import { formatAudio, formatBpm, formatDuration, formatKey, formatLufs, formatPercent } from "../lib/format";
import { paths } from "../router/match";
import { AnalysisChart } from "./AnalysisChart";
import type { AnalysisView } from "./analysisPoll";
import { Status } from "./Status";
import { useAnalysis } from "./useAnalysis";
import { useApi } from "./useApi";
import { usePageTitle } from "./usePageTitle";

/** One track: credits, play buttons, its facts and its audio analysis. */
export function TrackPage({ id }: { id: string }) {
  const res = useApi(`track:${id}`, (s) => getTrack(id, s));
  const { view, reload } = useAnalysis(id);
  const player = usePlayer();
  const track = res.data;
  usePageTitle(track ? track.title || "Untitled" : "Track");
  const analysis = view.phase === "ready" ? view.analysis : null;
  // The heading stays one element from loading to loaded: the router focuses it on arrival.
  return (
    <div className="page">
      <p className="eyebrow">Track</p>
      <h1 tabIndex={-1}>{track ? track.title || "Untitled" : "Track"}</h1>
      <Status loading={res.loading} error={res.error} what="this track" retry={res.reload} />
      {track && (
        <>
          <p className="album-credits">
            {track.artist_id ? <a href={paths.artist(track.artist_id)}>{track.artist || "Unknown artist"}</a> : track.artist || "Unknown artist"}
            {" · "}
            {track.album_id ? <a href={paths.album(track.album_id)}>{track.album || "Unknown album"}</a> : track.album || "Unknown album"}
            {track.year ? ` · ${track.year}` : ""}
          </p>
          <div className="actions">
            <button type="button" className="btn primary" onClick={() => player.playQueue([track], 0)}>
              ▶ Play
            </button>
            <button type="button" className="btn" onClick={() => player.enqueue([track])}>
              Add to queue
            </button>
          </div>
          <TrackFacts track={track} analysis={analysis} />
        </>
      )}
      {/* The analysis does not wait for the track: its route answers 404 by itself. */}
      {!res.error && <AnalysisPanel view={view} reload={reload} />}
    </div>
  );
}

/** The facts list. Analysis values come from the analysis once it is ready (the track row may predate it). */
function TrackFacts({ track, analysis }: { track: Track; analysis: Analysis | null }) {
  const bpm = formatBpm(analysis?.tempo.bpm ?? track.bpm);
  const key = analysis?.key.name ?? track.key ?? "";
  const energy = formatPercent(analysis?.scores.energy ?? track.energy);
  const loudness = formatLufs(track.loudness_lufs ?? analysis?.loudness_lufs);
  const facts: [string, ReactNode, string][] = [
    ["Duration", formatDuration(track.duration_ms), "duration"],
    ["Format", formatAudio(track), "format"],
    ["Loudness", loudness || unknown, "loudness"],
    ["BPM", bpm || unknown, "bpm"],
    ["Key", key || unknown, "key"],
    ["Energy", energy || unknown, "energy"],
  ];
  return (
    <dl className="facts">
      {facts.map(([label, value, testid]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd data-testid={`fact-${testid}`}>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

const unknown = <span className="muted">unknown</span>;

function AnalysisPanel({ view, reload }: { view: AnalysisView; reload: () => void }) {
  return (
    <section className="panel analysis" aria-labelledby="analysis-heading" data-testid="analysis" data-state={view.phase}>
      <h2 id="analysis-heading">Analysis</h2>
      <AnalysisBody view={view} reload={reload} />
    </section>
  );
}

function AnalysisBody({ view, reload }: { view: AnalysisView; reload: () => void }) {
  switch (view.phase) {
    case "loading":
      return (
        <p className="muted" role="status">
          Loading the analysis…
        </p>
      );
    case "pending":
      return (
        <p className="muted" role="status">
          Analysing…{" "}
          {view.retrying ? `An earlier attempt failed (${view.retrying}); it will be tried again.` : "This page updates when it is done."}
        </p>
      );
    case "not_analysable":
      return <p data-testid="analysis-reason">This track can't be analysed: {view.reason}.</p>;
    case "failed":
      return (
        <div className="notice error" role="alert">
          <p data-testid="analysis-reason">The analysis failed{view.reason ? `: ${view.reason}` : "."}</p>
          <button type="button" className="btn" onClick={reload}>
            Check again
          </button>
        </div>
      );
    case "error":
      return <Status error={view.error} what="this track's analysis" retry={reload} />;
    case "ready":
      return <AnalysisReady analysis={view.analysis} />;
  }
}

function AnalysisReady({ analysis: a }: { analysis: Analysis }) {
  const scores: [string, number][] = [
    ["Energy", a.scores.energy],
    ["Danceability", a.scores.danceability],
    ["Acousticness", a.scores.acousticness],
  ];
  return (
    <>
      <AnalysisChart analysis={a} />
      <dl className="facts">
        <div>
          <dt>Tempo</dt>
          <dd>
            <span data-testid="analysis-bpm">{formatBpm(a.tempo.bpm) || "unknown"}</span> BPM
            <span className="muted"> · confidence {formatPercent(a.tempo.confidence) || "unknown"}</span>
          </dd>
        </div>
        <div>
          <dt>Key</dt>
          <dd>
            <span data-testid="analysis-key">{formatKey(a.key.name) || "unknown"}</span>
            {a.key.camelot && <span className="muted"> · Camelot {a.key.camelot}</span>}
            <span className="muted"> · strength {formatPercent(a.key.strength) || "unknown"}</span>
          </dd>
        </div>
      </dl>
      <ul className="scores">
        {scores.map(([label, v]) => {
          const id = `score-${label.toLowerCase()}`;
          return (
            <li key={label}>
              <span id={id}>{label}</span>
              <meter min={0} max={1} value={Number.isFinite(v) ? v : 0} aria-labelledby={id} />
              <span className="score-value">{formatPercent(v)}</span>
            </li>
          );
        })}
      </ul>
    </>
  );
}
