//! Stored audio analyses (`track_analysis`): written by the pipeline's `analysis` job together
//! with the job's completion, read by the API and the catalog listings.

use crate::jobs::ClaimedJob;
use crate::{now_ms, Result, Store};
use sqlx::AssertSqlSafe;

/// Result states of an analysis row.
pub const ANALYSIS_READY: &str = "ready";
pub const NOT_ANALYSABLE: &str = "not_analysable";

/// One track's analysis as stored.
#[derive(Debug, Clone, PartialEq, Default, sqlx::FromRow)]
pub struct TrackAnalysis {
    pub track_id: String,
    /// The file stamp analysed (see [`crate::input_stamp`]).
    pub input: String,
    /// The analysis algorithm's version.
    pub version: i64,
    pub state: String,
    pub reason: Option<String>,
    pub bpm: Option<f64>,
    pub bpm_confidence: Option<f64>,
    pub key_name: Option<String>,
    pub key_tonic: Option<i64>,
    pub key_minor: Option<bool>,
    pub key_strength: Option<f64>,
    pub energy: Option<f64>,
    pub danceability: Option<f64>,
    pub acousticness: Option<f64>,
    /// The embedding as little-endian f32s.
    pub embedding: Option<Vec<u8>>,
    /// The whole result as JSON.
    pub detail: Option<String>,
    pub analyzed_at_ms: i64,
}

const ANALYSIS_COLUMNS: &str = "a.track_id, a.input, a.version, a.state, a.reason, a.bpm, \
    a.bpm_confidence, a.key_name, a.key_tonic, a.key_minor, a.key_strength, a.energy, \
    a.danceability, a.acousticness, a.embedding, a.detail, a.analyzed_at_ms";

impl Store {
    /// Stores an analysis and marks its job done, in one transaction, only if the job's lease
    /// still holds and the track's file is still the one analysed. Returns whether it stored.
    pub async fn publish_analysis(&self, job: &ClaimedJob, a: &TrackAnalysis) -> Result<bool> {
        with_db!(self, pool => {
            let mut tx = crate::begin_write(pool, PG).await?;
            let current: Option<String> = sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT {} FROM tracks t WHERE t.id = $1{}",
                crate::jobs::TRACK_STAMP,
                crate::for_update(PG)
            )))
            .bind(&a.track_id)
            .fetch_optional(&mut *tx)
            .await?;
            if current.as_deref() != Some(a.input.as_str()) {
                return Ok(false);
            }
            let finished = sqlx::query(crate::jobs::FINISH_SQL)
                .bind(now_ms())
                .bind(job.id)
                .bind(&job.worker)
                .bind(job.attempts)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if finished != 1 {
                return Ok(false);
            }
            sqlx::query(
                "INSERT INTO track_analysis (track_id, input, version, state, reason, bpm, \
                   bpm_confidence, key_name, key_tonic, key_minor, key_strength, energy, \
                   danceability, acousticness, embedding, detail, analyzed_at_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
                 ON CONFLICT (track_id) DO UPDATE SET input = excluded.input, \
                   version = excluded.version, state = excluded.state, reason = excluded.reason, \
                   bpm = excluded.bpm, bpm_confidence = excluded.bpm_confidence, \
                   key_name = excluded.key_name, key_tonic = excluded.key_tonic, \
                   key_minor = excluded.key_minor, key_strength = excluded.key_strength, \
                   energy = excluded.energy, danceability = excluded.danceability, \
                   acousticness = excluded.acousticness, embedding = excluded.embedding, \
                   detail = excluded.detail, analyzed_at_ms = excluded.analyzed_at_ms",
            )
            .bind(&a.track_id)
            .bind(&a.input)
            .bind(a.version)
            .bind(&a.state)
            .bind(&a.reason)
            .bind(a.bpm)
            .bind(a.bpm_confidence)
            .bind(&a.key_name)
            .bind(a.key_tonic)
            .bind(a.key_minor)
            .bind(a.key_strength)
            .bind(a.energy)
            .bind(a.danceability)
            .bind(a.acousticness)
            .bind(&a.embedding)
            .bind(&a.detail)
            .bind(a.analyzed_at_ms)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// A track's analysis if one was made from its current file (of any algorithm version).
    pub async fn track_analysis(&self, track_id: &str) -> Result<Option<TrackAnalysis>> {
        with_db!(self, pool => {
            Ok(sqlx::query_as(AssertSqlSafe(format!(
                "SELECT {ANALYSIS_COLUMNS} FROM track_analysis a JOIN tracks t ON t.id = a.track_id \
                 WHERE a.track_id = $1 AND a.input = {}",
                crate::jobs::TRACK_STAMP
            )))
            .bind(track_id)
            .fetch_optional(pool)
            .await?)
        })
    }

    /// Queues analysis for every track whose analysis is missing, of another file version, or
    /// of an older algorithm — only for tracks whose loudness is measured when
    /// `after_loudness` (the pipeline runs analysis after loudness). Returns how many rows were
    /// queued or re-queued.
    pub async fn enqueue_missing_analysis(
        &self,
        version: i64,
        after_loudness: bool,
    ) -> Result<u64> {
        with_db!(self, pool => {
            let now = now_ms();
            let stamp = crate::jobs::TRACK_STAMP;
            Ok(sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO jobs (kind, track_id, input, state, run_after_ms, created_at_ms, updated_at_ms) \
                 SELECT 'analysis', t.id, {stamp}, 'pending', $1, $1, $1 FROM tracks t \
                 WHERE ($3 OR t.loudness_lufs IS NOT NULL) AND NOT EXISTS (SELECT 1 FROM track_analysis a \
                   WHERE a.track_id = t.id AND a.input = {stamp} AND a.version >= $2) \
                 ON CONFLICT (kind, track_id) DO UPDATE SET state = 'pending', tries = 0, \
                   worker = NULL, output = NULL, lease_until_ms = NULL, error = NULL, \
                   input = excluded.input, run_after_ms = excluded.run_after_ms, \
                   updated_at_ms = excluded.updated_at_ms \
                 WHERE jobs.input <> excluded.input OR (jobs.state = 'ready' AND NOT EXISTS \
                   (SELECT 1 FROM track_analysis a WHERE a.track_id = jobs.track_id \
                    AND a.input = excluded.input AND a.version >= $2))"
            )))
            .bind(now)
            .bind(version)
            .bind(!after_loudness)
            .execute(pool)
            .await?
            .rows_affected())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{input_stamp, FileStamp, NewTrack};

    async fn store_with(tracks: &[(&str, i64)]) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).await.unwrap();
        let rows: Vec<NewTrack> = tracks
            .iter()
            .map(|&(id, size)| NewTrack {
                id: id.into(),
                path: format!("/m/{id}.flac"),
                size_bytes: size,
                mtime_ms: 20,
                ..Default::default()
            })
            .collect();
        store.upsert_tracks(&rows, 1).await.unwrap();
        for &(id, size) in tracks {
            let stamp = FileStamp {
                size_bytes: size,
                mtime_ms: 20,
            };
            assert!(store.set_loudness(id, stamp, -14.0, 0.9).await.unwrap());
        }
        (dir, store)
    }

    /// Runs every queued analysis job to completion with a stored row of `version`.
    async fn analyse_all(store: &Store, version: i64) -> usize {
        let mut n = 0;
        while let Some(job) = store
            .claim_job_of("w", 60_000, 5, Some("analysis"), |_| String::new())
            .await
            .unwrap()
        {
            let row = TrackAnalysis {
                track_id: job.track_id.clone(),
                input: job.input.clone(),
                version,
                state: ANALYSIS_READY.into(),
                bpm: Some(120.0),
                ..Default::default()
            };
            assert!(store.publish_analysis(&job, &row).await.unwrap());
            n += 1;
        }
        n
    }

    #[tokio::test]
    async fn only_missing_changed_or_older_analyses_are_queued() {
        let (_dir, store) = store_with(&[("a", 10), ("b", 11), ("c", 12)]).await;
        assert_eq!(store.enqueue_missing_analysis(1, true).await.unwrap(), 3);
        assert_eq!(analyse_all(&store, 1).await, 3);
        // Nothing is stale: nothing is queued.
        assert_eq!(store.enqueue_missing_analysis(1, true).await.unwrap(), 0);
        // One file changes: only it is queued, and its old analysis no longer shows.
        let changed = NewTrack {
            id: "b".into(),
            path: "/m/b.flac".into(),
            size_bytes: 99,
            mtime_ms: 20,
            ..Default::default()
        };
        store.upsert_tracks(&[changed], 2).await.unwrap();
        assert!(store.track_analysis("b").await.unwrap().is_none());
        assert_eq!(store.enqueue_missing_analysis(1, false).await.unwrap(), 1);
        assert_eq!(analyse_all(&store, 1).await, 1);
        assert_eq!(
            store.track_analysis("b").await.unwrap().unwrap().input,
            input_stamp(99, 20)
        );
        // (The changed file's loudness is measured again before the pipeline analyses it.)
        let stamp = FileStamp {
            size_bytes: 99,
            mtime_ms: 20,
        };
        assert!(store.set_loudness("b", stamp, -14.0, 0.9).await.unwrap());
        // A new algorithm version re-queues everything once.
        assert_eq!(store.enqueue_missing_analysis(2, true).await.unwrap(), 3);
        assert_eq!(analyse_all(&store, 2).await, 3);
        assert_eq!(store.enqueue_missing_analysis(2, true).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn a_stale_lease_or_a_changed_file_stores_nothing() {
        let (_dir, store) = store_with(&[("a", 10)]).await;
        store.enqueue_missing_analysis(1, true).await.unwrap();
        let job = store
            .claim_job_of("w1", -1, 5, Some("analysis"), |_| String::new())
            .await
            .unwrap()
            .unwrap();
        // Its lease lapsed and another worker took the job.
        let _other = store
            .claim_job_of("w2", 60_000, 5, Some("analysis"), |_| String::new())
            .await
            .unwrap()
            .unwrap();
        let row = TrackAnalysis {
            track_id: "a".into(),
            input: job.input.clone(),
            version: 1,
            state: ANALYSIS_READY.into(),
            ..Default::default()
        };
        assert!(!store.publish_analysis(&job, &row).await.unwrap());
        assert!(store.track_analysis("a").await.unwrap().is_none());
        // Claims of another kind are not taken by an analysis-only claimer.
        store
            .enqueue_job("hls", "a", &job.input, 0, false)
            .await
            .unwrap();
        assert!(store
            .claim_job_of("w3", 60_000, 5, Some("analysis"), |_| String::new())
            .await
            .unwrap()
            .is_none());
    }
}
