// Typed calls for the catalog screens and library management (README "HTTP API").
import { accessToken, api } from "./client";
import type { AnalysisAnswer, Page, Track } from "./types";

/** An album as the server derives it from tags (`GET /api/albums`). */
export interface Album {
  id: string;
  name: string;
  album_artist: string;
  year: number | null;
  track_count: number;
  duration_ms: number;
  /** A track whose cover stands for the album, or null when none of its tracks has art. */
  cover_track_id: string | null;
}

/** An artist (`GET /api/artists`). */
export interface Artist {
  id: string;
  name: string;
  album_count: number;
  track_count: number;
}

/** `GET /api/library/scan`: counters of the running (or last) scan. */
export interface ScanStatus {
  running: boolean;
  started_at_ms: number;
  finished_at_ms: number;
  found: number;
  unchanged: number;
  probed: number;
  failed: number;
  removed: number;
  files_per_second: number;
}

export type ProcessingState = "pending" | "processing" | "ready" | "failed";

/** `GET /api/tracks/{id}/processing`. */
export interface Processing {
  status: ProcessingState;
  reason: string | null;
}

export interface TrackQuery {
  q?: string;
  artist?: string;
  album?: string;
  limit?: number;
  offset?: number;
  /** A column the server orders by (title, artist, album, year, duration, format, bpm, key, energy). */
  sort?: string;
  order?: "asc" | "desc";
  /** Tempo range, inclusive (tracks without a tempo never match). */
  bpm_min?: number;
  bpm_max?: number;
  /** A key as the server spells it: "A minor", "F# major". */
  key?: string;
}

/** Largest page the server gives (`MAX_LIMIT`). */
export const MAX_PAGE = 500;

function query(params: Record<string, string | number | undefined>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : "";
}

export const listTracks = (q: TrackQuery, signal?: AbortSignal) =>
  api<Page<Track>>(`/api/tracks${query({ ...q })}`, { signal });

export const getTrack = (id: string, signal?: AbortSignal) =>
  api<Track>(`/api/tracks/${encodeURIComponent(id)}`, { signal });

/** The track's audio analysis: ready, not analysable, or (202) pending/failed with its job. */
export const getAnalysis = (trackId: string, signal?: AbortSignal) =>
  api<AnalysisAnswer>(`/api/tracks/${encodeURIComponent(trackId)}/analysis`, { signal });

export const listAlbums = (signal?: AbortSignal) => api<Page<Album>>("/api/albums", { signal });

export const getAlbum = (id: string, signal?: AbortSignal) =>
  api<{ album: Album; tracks: Track[] }>(`/api/albums/${encodeURIComponent(id)}`, { signal });

export const listArtists = (signal?: AbortSignal) => api<Page<Artist>>("/api/artists", { signal });

export const getArtist = (id: string, signal?: AbortSignal) =>
  api<{ artist: Artist; albums: Album[] }>(`/api/artists/${encodeURIComponent(id)}`, { signal });

export const scanStatus = (signal?: AbortSignal) => api<ScanStatus>("/api/library/scan", { signal });

export const startScan = () => api<ScanStatus>("/api/library/scan", { method: "POST" });

export const processing = (trackId: string, signal?: AbortSignal) =>
  api<Processing>(`/api/tracks/${encodeURIComponent(trackId)}/processing`, { signal });

/**
 * A cover image URL. `<img>` cannot send headers, so the access token rides in the query
 * (the server accepts `access_token` on catalog GETs).
 */
export function coverUrl(trackId: string, size: number): string {
  const t = accessToken();
  return `/api/tracks/${encodeURIComponent(trackId)}/cover${query({ size, access_token: t ?? undefined })}`;
}
