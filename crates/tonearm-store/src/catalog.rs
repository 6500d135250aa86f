//! Catalog queries: writes from the scanner, reads for the API.

use crate::model::{Album, Artist, FileStamp, NewTrack, ScanIssue, Track, TrackSource};
use crate::{now_ms, Result, Store};
use sqlx::{AssertSqlSafe, QueryBuilder};
use std::collections::HashMap;

/// Columns that make a [`Track`] (the API shape).
const TRACK_COLUMNS: &str =
    "id, title, artist, artist_id, album, album_id, album_artist, track_no, disc_no, \
     year, genre, duration_ms, codec, sample_rate, bit_depth, channels, bitrate, size_bytes, \
     mb_recording_id, mb_release_id, mb_artist_id, rg_track_gain, rg_track_peak, loudness_lufs, \
     true_peak, CASE WHEN loudness_lufs IS NOT NULL THEN -18.0 - loudness_lufs END AS replay_gain_db, \
     (cover IS NOT NULL) AS has_cover, a.bpm AS bpm, a.key_name AS \"key\", a.energy AS energy";

/// Tracks with their current analysis (made from the file as it is now), for listings.
const TRACKS_WITH_ANALYSIS: &str =
    "tracks t LEFT JOIN track_analysis a ON a.track_id = t.id AND a.state = 'ready' \
     AND a.input = (CAST(t.size_bytes AS TEXT) || ':' || CAST(t.mtime_ms AS TEXT))";

/// Narrows a track listing. Text is matched case- and accent-insensitively.
#[derive(Debug, Clone, Default)]
pub struct TrackFilter {
    /// Words that must all appear in title, artist or album (already normalized by the caller).
    pub words: Vec<String>,
    /// Artist id or exact artist name.
    pub artist: Option<String>,
    /// Album id or exact album name.
    pub album: Option<String>,
    pub limit: i64,
    pub offset: i64,
    /// The order of the listing; album order unless a column is asked for.
    pub sort: Option<(TrackSort, SortOrder)>,
    /// Tempo range (BPM, inclusive) from the analysis; tracks without a tempo are left out.
    pub bpm_min: Option<f64>,
    pub bpm_max: Option<f64>,
    /// A key by its canonical name ("A minor"), as the analysis stores it.
    pub key: Option<String>,
}

/// A column a track listing can be ordered by. Each maps to a fixed SQL expression (never to
/// client text), and ties fall back to album order so pages are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackSort {
    Title,
    Artist,
    Album,
    Year,
    Duration,
    Format,
    Bpm,
    Key,
    Energy,
}

impl TrackSort {
    /// Parses the API's name for a column.
    pub fn parse(s: &str) -> Option<TrackSort> {
        Some(match s {
            "title" => TrackSort::Title,
            "artist" => TrackSort::Artist,
            "album" => TrackSort::Album,
            "year" => TrackSort::Year,
            "duration" => TrackSort::Duration,
            "format" => TrackSort::Format,
            "bpm" => TrackSort::Bpm,
            "key" => TrackSort::Key,
            "energy" => TrackSort::Energy,
            _ => return None,
        })
    }

    fn expr(self) -> &'static str {
        match self {
            TrackSort::Title => "lower(title)",
            TrackSort::Artist => "lower(artist)",
            TrackSort::Album => "lower(album)",
            TrackSort::Year => "year",
            TrackSort::Duration => "duration_ms",
            TrackSort::Format => "lower(codec)",
            TrackSort::Bpm => "a.bpm",
            // Pitch order, major before minor at each tonic.
            TrackSort::Key => "a.key_tonic * 2 + CASE WHEN a.key_minor THEN 1 ELSE 0 END",
            TrackSort::Energy => "a.energy",
        }
    }
}

/// Ascending or descending; unknown values (no year) come last either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    Asc,
    Desc,
}

/// Album order: the order a record plays in (the default listing, and every tie-break).
const ALBUM_ORDER: &str =
    "lower(album_artist), lower(album), disc_no NULLS FIRST, track_no NULLS FIRST, lower(title), id";

/// Escapes `%`, `_` and `\` so user text in a LIKE pattern matches literally.
fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

impl Store {
    /// Size and mtime of those of `paths` the catalog knows (as tracks or skipped files).
    pub async fn stamps_for(&self, paths: &[String]) -> Result<HashMap<String, FileStamp>> {
        with_db!(self, pool => {
            let mut out = HashMap::with_capacity(paths.len());
            // SQLite allows 32766 bound parameters; stay far below.
            for batch in paths.chunks(500) {
                for table in ["tracks", "scan_issues"] {
                    let mut qb: QueryBuilder<_> = QueryBuilder::new(format!(
                        "SELECT path, size_bytes, mtime_ms FROM {table} WHERE path IN ("
                    ));
                    let mut list = qb.separated(", ");
                    for p in batch {
                        list.push_bind(p.clone());
                    }
                    qb.push(")");
                    let rows: Vec<(String, i64, i64)> =
                        qb.build_query_as().fetch_all(pool).await?;
                    out.extend(rows.into_iter().map(|(p, size_bytes, mtime_ms)| {
                        (
                            p,
                            FileStamp {
                                size_bytes,
                                mtime_ms,
                            },
                        )
                    }));
                }
            }
            Ok(out)
        })
    }

    /// Records that scan `scan` saw these unchanged files.
    pub async fn mark_seen(&self, paths: &[String], scan: i64) -> Result<()> {
        with_db!(self, pool => {
            if paths.is_empty() {
                return Ok(());
            }
            let mut tx = pool.begin().await?;
            for batch in paths.chunks(500) {
                for table in ["tracks", "scan_issues"] {
                    let mut qb: QueryBuilder<_> =
                        QueryBuilder::new(format!("UPDATE {table} SET seen_scan = "));
                    qb.push_bind(scan).push(" WHERE path IN (");
                    let mut list = qb.separated(", ");
                    for p in batch {
                        list.push_bind(p.clone());
                    }
                    qb.push(")");
                    qb.build().execute(&mut *tx).await?;
                }
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Removes files under `root` (a path prefix ending in a separator) that scan `scan` did not
    /// see: they are gone from disk. Returns how many tracks were removed. Generations are start
    /// times, so a row written after the scan began (an upload during the scan) is newer, not
    /// unseen, and stays.
    pub async fn remove_unseen(&self, root: &str, scan: i64) -> Result<u64> {
        with_db!(self, pool => {
            // An exact, case-sensitive prefix test (LIKE ignores ASCII case in SQLite).
            let mut tx = pool.begin().await?;
            let removed = sqlx::query(
                "DELETE FROM tracks WHERE substr(path, 1, length($1)) = $1 AND seen_scan < $2",
            )
            .bind(root)
            .bind(scan)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query(
                "DELETE FROM scan_issues WHERE substr(path, 1, length($1)) = $1 AND seen_scan < $2",
            )
            .bind(root)
            .bind(scan)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(removed)
        })
    }

    /// Inserts or replaces a batch of scanned tracks and clears any issue recorded for their
    /// paths, in one transaction (a crash leaves either the whole batch or none of it).
    pub async fn upsert_tracks(&self, tracks: &[NewTrack], scan: i64) -> Result<()> {
        with_db!(self, pool => {
            let mut tx = pool.begin().await?;
            let now = now_ms();
            for t in tracks {
                sqlx::query(
                    "INSERT INTO tracks (id, path, size_bytes, mtime_ms, title, artist, artist_id, album, album_id, \
                     album_artist, track_no, disc_no, year, genre, duration_ms, frames, codec, sample_rate, bit_depth, \
                     channels, bitrate, mb_recording_id, mb_release_id, mb_artist_id, rg_track_gain, rg_track_peak, \
                     cover, search_text, scanned_at_ms, seen_scan) \
                     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26,$27,$28,$29,$30) \
                     ON CONFLICT(id) DO UPDATE SET path=excluded.path, size_bytes=excluded.size_bytes, \
                     mtime_ms=excluded.mtime_ms, title=excluded.title, artist=excluded.artist, artist_id=excluded.artist_id, \
                     album=excluded.album, album_id=excluded.album_id, album_artist=excluded.album_artist, \
                     track_no=excluded.track_no, disc_no=excluded.disc_no, year=excluded.year, genre=excluded.genre, \
                     duration_ms=excluded.duration_ms, frames=excluded.frames, codec=excluded.codec, \
                     sample_rate=excluded.sample_rate, bit_depth=excluded.bit_depth, channels=excluded.channels, \
                     bitrate=excluded.bitrate, mb_recording_id=excluded.mb_recording_id, \
                     mb_release_id=excluded.mb_release_id, mb_artist_id=excluded.mb_artist_id, \
                     rg_track_gain=excluded.rg_track_gain, rg_track_peak=excluded.rg_track_peak, cover=excluded.cover, \
                     search_text=excluded.search_text, scanned_at_ms=excluded.scanned_at_ms, seen_scan=excluded.seen_scan, \
                     loudness_lufs=NULL, true_peak=NULL",
                )
                .bind(&t.id)
                .bind(&t.path)
                .bind(t.size_bytes)
                .bind(t.mtime_ms)
                .bind(&t.title)
                .bind(&t.artist)
                .bind(&t.artist_id)
                .bind(&t.album)
                .bind(&t.album_id)
                .bind(&t.album_artist)
                .bind(t.track_no)
                .bind(t.disc_no)
                .bind(t.year)
                .bind(&t.genre)
                .bind(t.duration_ms)
                .bind(t.frames)
                .bind(&t.codec)
                .bind(t.sample_rate)
                .bind(t.bit_depth)
                .bind(t.channels)
                .bind(t.bitrate)
                .bind(&t.mb_recording_id)
                .bind(&t.mb_release_id)
                .bind(&t.mb_artist_id)
                .bind(t.rg_track_gain)
                .bind(t.rg_track_peak)
                .bind(&t.cover)
                .bind(&t.search_text)
                .bind(now)
                .bind(scan)
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM scan_issues WHERE path = $1")
                    .bind(&t.path)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Records files the scanner skipped (replacing any track previously stored for the path).
    pub async fn record_issues(&self, issues: &[ScanIssue], scan: i64) -> Result<()> {
        with_db!(self, pool => {
            let mut tx = pool.begin().await?;
            let now = now_ms();
            for i in issues {
                sqlx::query("DELETE FROM tracks WHERE path = $1")
                    .bind(&i.path)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO scan_issues (path, size_bytes, mtime_ms, reason, seen_at_ms, seen_scan) VALUES ($1,$2,$3,$4,$5,$6) \
                     ON CONFLICT(path) DO UPDATE SET size_bytes=excluded.size_bytes, mtime_ms=excluded.mtime_ms, \
                     reason=excluded.reason, seen_at_ms=excluded.seen_at_ms, seen_scan=excluded.seen_scan",
                )
                .bind(&i.path)
                .bind(i.size_bytes)
                .bind(i.mtime_ms)
                .bind(&i.reason)
                .bind(now)
                .bind(scan)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// A page of tracks matching `filter`, and how many match in all.
    pub async fn tracks(&self, filter: &TrackFilter) -> Result<(Vec<Track>, i64)> {
        with_db!(self, pool => {
            let build = |select: &str| {
                let mut qb: QueryBuilder<_> = QueryBuilder::new(select);
                qb.push(" FROM ").push(TRACKS_WITH_ANALYSIS).push(" WHERE 1=1");
                for w in &filter.words {
                    qb.push(" AND search_text LIKE ")
                        .push_bind(format!("%{}%", like_escape(w)))
                        .push(" ESCAPE '\\'");
                }
                if let Some(a) = &filter.artist {
                    qb.push(" AND (artist_id = ").push_bind(a.clone());
                    qb.push(" OR lower(artist) = lower(")
                        .push_bind(a.clone())
                        .push("))");
                }
                if let Some(a) = &filter.album {
                    qb.push(" AND (album_id = ").push_bind(a.clone());
                    qb.push(" OR lower(album) = lower(")
                        .push_bind(a.clone())
                        .push("))");
                }
                if let Some(b) = filter.bpm_min {
                    qb.push(" AND a.bpm >= ").push_bind(b);
                }
                if let Some(b) = filter.bpm_max {
                    qb.push(" AND a.bpm <= ").push_bind(b);
                }
                if let Some(k) = &filter.key {
                    qb.push(" AND a.key_name = ").push_bind(k.clone());
                }
                qb
            };
            let total: i64 = build("SELECT COUNT(*)")
                .build_query_scalar()
                .fetch_one(pool)
                .await?;
            let mut qb = build(&format!("SELECT {TRACK_COLUMNS}"));
            qb.push(" ORDER BY ");
            if let Some((column, order)) = filter.sort {
                let dir = match order {
                    SortOrder::Asc => "ASC",
                    SortOrder::Desc => "DESC",
                };
                qb.push(format!("{} {dir} NULLS LAST, ", column.expr()));
            }
            qb.push(ALBUM_ORDER)
                .push(" LIMIT ")
                .push_bind(filter.limit)
                .push(" OFFSET ")
                .push_bind(filter.offset);
            let items = qb.build_query_as::<Track>().fetch_all(pool).await?;
            Ok((items, total))
        })
    }

    /// One track by id.
    pub async fn track(&self, id: &str) -> Result<Option<Track>> {
        with_db!(self, pool => {
            let sql = format!("SELECT {TRACK_COLUMNS} FROM {TRACKS_WITH_ANALYSIS} WHERE t.id = $1");
            Ok(sqlx::query_as(AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(pool)
                .await?)
        })
    }

    /// What the streamer needs about a track's file.
    pub async fn track_source(&self, id: &str) -> Result<Option<TrackSource>> {
        with_db!(self, pool => {
            Ok(sqlx::query_as(
                "SELECT id, path, size_bytes, mtime_ms, frames, sample_rate, channels, codec, loudness_lufs, \
                 true_peak, cover FROM tracks WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?)
        })
    }

    /// Stores a measured EBU R128 integrated loudness and true peak for a track, only if the
    /// file is still the one measured (`stamp`): a measurement of a file replaced meanwhile
    /// must not stick to the new one. Returns whether it was stored.
    pub async fn set_loudness(
        &self,
        id: &str,
        stamp: FileStamp,
        lufs: f64,
        true_peak: f64,
    ) -> Result<bool> {
        with_db!(self, pool => {
            let r = sqlx::query(
                "UPDATE tracks SET loudness_lufs = $1, true_peak = $2 \
                 WHERE id = $3 AND size_bytes = $4 AND mtime_ms = $5",
            )
            .bind(lufs)
            .bind(true_peak)
            .bind(id)
            .bind(stamp.size_bytes)
            .bind(stamp.mtime_ms)
            .execute(pool)
            .await?;
            Ok(r.rows_affected() == 1)
        })
    }

    const ALBUM_SELECT: &'static str =
        "SELECT album_id AS id, MIN(album) AS name, MIN(album_artist) AS album_artist, \
         MAX(year) AS year, COUNT(*) AS track_count, CAST(SUM(duration_ms) AS BIGINT) AS duration_ms, \
         MIN(CASE WHEN cover IS NOT NULL THEN id END) AS cover_track_id FROM tracks";

    /// All albums, by album artist then name.
    pub async fn albums(&self) -> Result<Vec<Album>> {
        with_db!(self, pool => {
            let sql = format!(
                "{} GROUP BY album_id ORDER BY lower(MIN(album_artist)), lower(MIN(album))",
                Self::ALBUM_SELECT
            );
            Ok(sqlx::query_as(AssertSqlSafe(sql))
                .fetch_all(pool)
                .await?)
        })
    }

    /// One album by id.
    pub async fn album(&self, id: &str) -> Result<Option<Album>> {
        with_db!(self, pool => {
            let sql = format!(
                "{} WHERE album_id = $1 GROUP BY album_id",
                Self::ALBUM_SELECT
            );
            Ok(sqlx::query_as(AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(pool)
                .await?)
        })
    }

    const ARTIST_SELECT: &'static str = "SELECT artist_id AS id, MIN(artist) AS name, \
         COUNT(DISTINCT album_id) AS album_count, COUNT(*) AS track_count FROM tracks";

    /// All artists, by name.
    pub async fn artists(&self) -> Result<Vec<Artist>> {
        with_db!(self, pool => {
            let sql = format!(
                "{} GROUP BY artist_id ORDER BY lower(MIN(artist))",
                Self::ARTIST_SELECT
            );
            Ok(sqlx::query_as(AssertSqlSafe(sql))
                .fetch_all(pool)
                .await?)
        })
    }

    /// One artist by id.
    pub async fn artist(&self, id: &str) -> Result<Option<Artist>> {
        with_db!(self, pool => {
            let sql = format!(
                "{} WHERE artist_id = $1 GROUP BY artist_id",
                Self::ARTIST_SELECT
            );
            Ok(sqlx::query_as(AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(pool)
                .await?)
        })
    }

    /// Albums an artist appears on.
    pub async fn artist_albums(&self, artist_id: &str) -> Result<Vec<Album>> {
        with_db!(self, pool => {
            let sql = format!(
                "{} WHERE album_id IN (SELECT album_id FROM tracks WHERE artist_id = $1) GROUP BY album_id \
                 ORDER BY MAX(year) NULLS FIRST, lower(MIN(album))",
                Self::ALBUM_SELECT
            );
            Ok(sqlx::query_as(AssertSqlSafe(sql))
                .bind(artist_id)
                .fetch_all(pool)
                .await?)
        })
    }

    /// Files the scanner skipped.
    pub async fn scan_issues(&self) -> Result<Vec<ScanIssue>> {
        with_db!(self, pool => {
            Ok(sqlx::query_as(
                "SELECT path, size_bytes, mtime_ms, reason FROM scan_issues ORDER BY path",
            )
            .fetch_all(pool)
            .await?)
        })
    }

    /// Number of tracks in the library.
    pub async fn track_count(&self) -> Result<i64> {
        with_db!(self, pool => {
            Ok(sqlx::query_scalar("SELECT COUNT(*) FROM tracks")
                .fetch_one(pool)
                .await?)
        })
    }
}
