import { describe, expect, it } from "vitest";
import type { Track } from "../api/types";
import { nextSort, sortTracks } from "./sort";

let n = 0;
function track(p: Partial<Track>): Track {
  n++;
  return {
    id: `t${n}`,
    title: `Title ${n}`,
    artist: "A",
    artist_id: "a",
    album: "Album",
    album_id: "al",
    album_artist: "A",
    track_no: null,
    disc_no: null,
    year: null,
    genre: null,
    duration_ms: 1000,
    codec: "flac",
    sample_rate: 44100,
    bit_depth: 16,
    channels: 2,
    bitrate: 1000,
    size_bytes: 1,
    loudness_lufs: null,
    true_peak: null,
    replay_gain_db: null,
    has_cover: false,
    bpm: null,
    key: null,
    energy: null,
    ...p,
  };
}

const titles = (ts: Track[]) => ts.map((t) => t.title);

describe("sortTracks", () => {
  const list = [
    track({ title: "Zero Crossing", duration_ms: 20_000, year: 2001 }),
    track({ title: "café Oscillation", duration_ms: 5_000, year: null }),
    track({ title: "Dawn Chorus", duration_ms: 30_000, year: 1999 }),
    track({ title: "Cafe Bar", duration_ms: 10_000, year: 2010 }),
  ];

  it("sorts titles case- and accent-insensitively, both ways", () => {
    expect(titles(sortTracks(list, { key: "title", dir: "asc" }))).toEqual([
      "Cafe Bar",
      "café Oscillation",
      "Dawn Chorus",
      "Zero Crossing",
    ]);
    expect(titles(sortTracks(list, { key: "title", dir: "desc" }))).toEqual([
      "Zero Crossing",
      "Dawn Chorus",
      "café Oscillation",
      "Cafe Bar",
    ]);
  });

  it("sorts numbers numerically and keeps unknowns last", () => {
    expect(titles(sortTracks(list, { key: "duration", dir: "asc" }))[0]).toBe("café Oscillation");
    expect(titles(sortTracks(list, { key: "year", dir: "asc" }))).toEqual([
      "Dawn Chorus",
      "Zero Crossing",
      "Cafe Bar",
      "café Oscillation",
    ]);
    expect(titles(sortTracks(list, { key: "year", dir: "desc" })).at(-1)).toBe("café Oscillation");
  });

  it("sorts by the analysis' tempo, key and energy, unanalysed tracks last", () => {
    const ts = [
      track({ title: "slow", bpm: 80.4, key: "F# major", energy: 0.2 }),
      track({ title: "none" }),
      track({ title: "fast", bpm: 140, key: "A minor", energy: 0.9 }),
      track({ title: "mid", bpm: 120.5, key: "C major", energy: 0.5 }),
    ];
    expect(titles(sortTracks(ts, { key: "bpm", dir: "asc" }))).toEqual(["slow", "mid", "fast", "none"]);
    expect(titles(sortTracks(ts, { key: "bpm", dir: "desc" }))).toEqual(["fast", "mid", "slow", "none"]);
    // Keys in pitch order (C major, …, F# major, …, A minor), as the server sorts them.
    expect(titles(sortTracks(ts, { key: "key", dir: "asc" }))).toEqual(["mid", "slow", "fast", "none"]);
    expect(titles(sortTracks(ts, { key: "key", dir: "desc" }))).toEqual(["fast", "slow", "mid", "none"]);
    expect(titles(sortTracks(ts, { key: "energy", dir: "desc" }))).toEqual(["fast", "mid", "slow", "none"]);
    // A server from before the analysis sends no such fields: those rows count as unknown.
    const old = { ...track({ title: "old" }) } as Partial<Track>;
    delete old.bpm;
    expect(titles(sortTracks([old as Track, ts[2]], { key: "bpm", dir: "asc" }))).toEqual(["fast", "old"]);
  });

  it("uses natural order for numbers inside text", () => {
    const ts = [track({ title: "Track 10" }), track({ title: "Track 2" })];
    expect(titles(sortTracks(ts, { key: "title", dir: "asc" }))).toEqual(["Track 2", "Track 10"]);
  });

  it("breaks ties in album order and does not change its input", () => {
    const ts = [
      track({ artist: "Same", album: "B", track_no: 1, title: "b1" }),
      track({ artist: "Same", album: "A", track_no: 2, title: "a2" }),
      track({ artist: "Same", album: "A", track_no: 1, title: "a1" }),
    ];
    const before = titles(ts);
    expect(titles(sortTracks(ts, { key: "artist", dir: "asc" }))).toEqual(["a1", "a2", "b1"]);
    expect(titles(ts)).toEqual(before);
  });
});

describe("nextSort", () => {
  it("flips the same column and starts others ascending", () => {
    expect(nextSort(null, "title")).toEqual({ key: "title", dir: "asc" });
    expect(nextSort({ key: "title", dir: "asc" }, "title")).toEqual({ key: "title", dir: "desc" });
    expect(nextSort({ key: "title", dir: "desc" }, "title")).toEqual({ key: "title", dir: "asc" });
    expect(nextSort({ key: "title", dir: "desc" }, "album")).toEqual({ key: "album", dir: "asc" });
  });
});
