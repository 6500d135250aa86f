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
}

/** A page of a list: `{items, total}`. */
export interface Page<T> {
  items: T[];
  total: number;
}
