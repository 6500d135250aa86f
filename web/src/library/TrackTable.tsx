// The tracks table shared by the tracks, album, artist and search screens. Clicking a title
// plays the list as shown (sorted or not) from that track, so "next" follows what you see; the
// (i) link beside it opens the track's page; the "⋯" menu at the end of the row has the
// track's other actions (`trackActions`: Play next, Add to queue).
import type { Track } from "../api/types";
import { usePlayer } from "../player";
import { Icon } from "../player/icons";
import { formatAudio, formatBpm, formatDuration } from "../lib/format";
import { paths } from "../router/match";
import type { Sort, SortKey } from "./sort";
import type { TrackActionContext } from "./trackActions";
import { TrackMenu } from "./TrackMenu";

interface Column {
  key: SortKey;
  label: string;
  className: string;
}

const COLUMNS: Column[] = [
  { key: "title", label: "Title", className: "col-title" },
  { key: "artist", label: "Artist", className: "col-artist" },
  { key: "album", label: "Album", className: "col-album" },
  { key: "year", label: "Year", className: "col-year" },
  { key: "bpm", label: "BPM", className: "col-bpm" },
  { key: "key", label: "Key", className: "col-key" },
  { key: "format", label: "Format", className: "col-format" },
  { key: "duration", label: "Time", className: "col-time" },
];

export interface TrackTableProps {
  tracks: readonly Track[];
  /** A caption naming the table for screen readers. */
  caption: string;
  /** Column sorting; omitted for lists with a fixed order (an album). */
  sort?: { current: Sort | null; onSort: (key: SortKey) => void };
  /** The number column shows album track numbers instead of positions. */
  trackNumbers?: boolean;
  hideAlbum?: boolean;
}

export function TrackTable({ tracks, caption, sort, trackNumbers, hideAlbum }: TrackTableProps) {
  const player = usePlayer();
  // A column with nothing in it (no year tags at all, nothing analysed yet) is only noise.
  const showYear = tracks.some((t) => t.year);
  const showBpm = tracks.some((t) => formatBpm(t.bpm) !== "");
  const showKey = tracks.some((t) => t.key);
  const hidden = new Set<SortKey>();
  if (hideAlbum) hidden.add("album");
  if (!showYear) hidden.add("year");
  if (!showBpm) hidden.add("bpm");
  if (!showKey) hidden.add("key");
  const cols = COLUMNS.filter((c) => !hidden.has(c.key));
  const actions: TrackActionContext = { player };
  return (
    <div className="table-wrap">
      <table className="tracks">
        <caption className="visually-hidden">
          {caption}
          {sort?.current ? `, sorted by ${sort.current.key} ${sort.current.dir === "asc" ? "ascending" : "descending"}` : ""}
        </caption>
        <thead>
          <tr>
            <th scope="col" className="col-no">
              #
            </th>
            {cols.map((c) => {
              const active = sort?.current?.key === c.key;
              const ariaSort = active ? (sort?.current?.dir === "asc" ? "ascending" : "descending") : undefined;
              return (
                <th key={c.key} scope="col" className={c.className} aria-sort={ariaSort}>
                  {sort ? (
                    <button type="button" className="sort-btn" onClick={() => sort.onSort(c.key)}>
                      {c.label}
                      <span className="sort-mark" aria-hidden="true">
                        {active ? (sort.current?.dir === "asc" ? "▲" : "▼") : "↕"}
                      </span>
                    </button>
                  ) : (
                    c.label
                  )}
                </th>
              );
            })}
            <th scope="col" className="col-menu">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {tracks.map((t, i) => {
            const playing = player.current?.id === t.id;
            return (
              <tr key={t.id} className={playing ? "playing" : undefined} aria-current={playing ? "true" : undefined}>
                <td className="col-no">{playing ? <span aria-label="Now playing">▶</span> : trackNumbers ? (t.track_no ?? "") : i + 1}</td>
                <td className="col-title">
                  <span className="title-line">
                    <button
                      type="button"
                      className="play-title"
                      onClick={() => player.playQueue([...tracks], i)}
                      aria-label={`Play ${t.title || "untitled"} by ${t.artist || "unknown artist"}`}
                    >
                      {t.title || "Untitled"}
                    </button>
                    <a className="track-link" href={paths.track(t.id)} aria-label={`About ${t.title || "untitled"}`} title="Track details">
                      <Icon name="info" size={16} />
                    </a>
                  </span>
                  <span className="narrow-only muted" aria-hidden="true">
                    {t.artist}
                  </span>
                </td>
                <td className="col-artist">{t.artist_id ? <a href={paths.artist(t.artist_id)}>{t.artist}</a> : t.artist}</td>
                {!hideAlbum && (
                  <td className="col-album">{t.album_id ? <a href={paths.album(t.album_id)}>{t.album}</a> : t.album}</td>
                )}
                {showYear && <td className="col-year">{t.year ?? ""}</td>}
                {showBpm && <td className="col-bpm">{formatBpm(t.bpm)}</td>}
                {showKey && <td className="col-key">{t.key ?? ""}</td>}
                <td className="col-format">{formatAudio(t)}</td>
                <td className="col-time">{formatDuration(t.duration_ms)}</td>
                <td className="col-menu">
                  <TrackMenu track={t} ctx={actions} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
