// Wire types: one name per idea, as the server's README and docs/rooms.md spell them.

/** A track as `GET /api/tracks` returns it. */
export interface Track {
  id: string;
  title: string;
  artist: string;
  artist_id: string;
  album: string;
  album_id: string;
  album_artist: string;
  track_no: number | null;
  disc_no: number | null;
  year: number | null;
  genre: string | null;
  duration_ms: number;
  codec: string;
  sample_rate: number;
  bit_depth: number | null;
  channels: number;
  bitrate: number;
  size_bytes: number;
  loudness_lufs: number | null;
  true_peak: number | null;
  replay_gain_db: number | null;
  has_cover: boolean;
  /** Tempo from the audio analysis (e.g. 123.4); null until analysed or when it has none. */
  bpm: number | null;
  /** Musical key from the analysis, spelled like "A minor" or "F# major"; null until analysed. */
  key: string | null;
  /** The analysis' energy score, 0..1; null until analysed. */
  energy: number | null;
}

/** A page of a list: `{items, total}`. */
export interface Page<T> {
  items: T[];
  total: number;
}

/** A processing job as the server lists it (`/api/jobs`, and inside 202 answers). */
export interface Job {
  id: number;
  kind: string;
  track_id?: string;
  state: "pending" | "processing" | "ready" | "failed";
  attempts: number;
  /** Why the last attempt failed (kept while a retry waits). */
  error?: string | null;
}

/** Mean and standard deviation of one frame feature over the track (`mfcc` has 20 values, …). */
export interface FeatureStats {
  mean: number[];
  std: number[];
}

/** `GET /api/tracks/{id}/analysis`, 200 `ready`: everything the analysis measured. */
export interface Analysis {
  state: "ready";
  track_id: string;
  version: number;
  duration_s: number;
  tempo: { bpm: number; confidence: number };
  /** Beat times in seconds. */
  beats: number[];
  key: { name: string; tonic: string; mode: string; strength: number; camelot: string };
  loudness_lufs: number | null;
  /** Each 0..1. */
  scores: { energy: number; danceability: number; acousticness: number };
  /** By feature name: mfcc, chroma, spectral_centroid, spectral_contrast, rms, zcr, … */
  features: Record<string, FeatureStats>;
  timeline: {
    step_s: number;
    /** 0..1, one per step. */
    energy: number[];
    /** One 12-vector (pitch classes C..B, each 0..1) per step. */
    chroma: number[][];
  };
}

/** 200 `not_analysable`: the audio cannot be analysed (e.g. "silent audio"). */
export interface AnalysisNotAnalysable {
  state: "not_analysable";
  track_id: string;
  reason: string;
}

/** 202: queued or running (`pending`; ask again later), or its job failed (`failed`). */
export interface AnalysisWaiting {
  state: "pending" | "failed";
  track_id: string;
  job: Job;
}

/** Every answer of `GET /api/tracks/{id}/analysis` (a 404 is an ApiError). */
export type AnalysisAnswer = Analysis | AnalysisNotAnalysable | AnalysisWaiting;
