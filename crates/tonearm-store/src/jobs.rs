//! The processing pipeline's persistent queue and the published HLS packages.
//!
//! A job is one (kind, track) row. Claiming is one atomic `UPDATE … RETURNING` that takes the
//! best runnable row and stamps it with the worker and a lease, so two workers (on one node or
//! several) never run the same job at once; a worker that dies simply lets its lease lapse and
//! the row is claimable again. Every state change after the claim is conditional on still
//! holding that lease (`worker` and `attempts` match), so a worker that lost its lease cannot
//! overwrite the work of the one that took over.

use crate::{now_ms, Result, Store};
use serde::Serialize;
use sqlx::AssertSqlSafe;

/// Where a job is in its life.
pub const PENDING: &str = "pending";
pub const PROCESSING: &str = "processing";
pub const READY: &str = "ready";
pub const FAILED: &str = "failed";

/// A job as the API lists it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, PartialEq)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub track_id: String,
    pub state: String,
    pub priority: i64,
    /// Claims ever made (never reset).
    pub attempts: i64,
    /// Claims since the job was last queued.
    pub tries: i64,
    pub run_after_ms: i64,
    pub lease_until_ms: Option<i64>,
    pub worker: Option<String>,
    /// Why the last attempt failed (kept while a retry waits, so the reason is visible).
    pub error: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// A job a worker has claimed: what to do, and the lease that proves it may still do it.
#[derive(Debug, Clone, sqlx::FromRow, PartialEq)]
pub struct ClaimedJob {
    pub id: i64,
    pub kind: String,
    pub track_id: String,
    /// The source stamp the job was queued for.
    pub input: String,
    /// This claim's number (never reused for the row); part of the lease.
    pub attempts: i64,
    /// Claims since the job was last queued (1 for the first run after queueing).
    pub tries: i64,
    pub worker: String,
}

/// Which jobs to list.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    pub state: Option<String>,
    pub kind: Option<String>,
    pub track_id: Option<String>,
    pub limit: i64,
}

/// A stored HLS package (see the `hls_packages` table).
#[derive(Debug, Clone, sqlx::FromRow, PartialEq)]
pub struct HlsPackage {
    pub track_id: String,
    pub input: String,
    pub prefix: String,
    pub key_hex: String,
    pub iv_hex: String,
    pub manifest: String,
    pub created_at_ms: i64,
}

/// The stamp jobs and packages record for a source file: size and modification time.
pub fn input_stamp(size_bytes: i64, mtime_ms: i64) -> String {
    format!("{size_bytes}:{mtime_ms}")
}

/// SQL for a track's stamp, matching [`input_stamp`].
pub(crate) const TRACK_STAMP: &str =
    "(CAST(t.size_bytes AS TEXT) || ':' || CAST(t.mtime_ms AS TEXT))";

/// Marks a job done if its lease still holds.
pub(crate) const FINISH_SQL: &str =
    "UPDATE jobs SET state = 'ready', error = NULL, lease_until_ms = NULL, output = NULL, \
     updated_at_ms = $1 \
     WHERE id = $2 AND worker = $3 AND attempts = $4 AND state = 'processing'";

impl Store {
    /// Queues `kind` for one track at `priority`. Idempotent: a job already queued for the same
    /// input is left alone (only its priority may rise); one for an older input, or `force`,
    /// starts over as pending (its running claim, if any, is revoked: that worker stops at its
    /// next heartbeat). Without `force`, a job running for the same input is left to finish.
    pub async fn enqueue_job(
        &self,
        kind: &str,
        track_id: &str,
        input: &str,
        priority: i64,
        force: bool,
    ) -> Result<()> {
        with_db!(self, pool => {
            let now = now_ms();
            sqlx::query(
                "INSERT INTO jobs (kind, track_id, input, state, priority, run_after_ms, created_at_ms, updated_at_ms) \
                 VALUES ($1, $2, $3, 'pending', $4, $5, $5, $5) \
                 ON CONFLICT (kind, track_id) DO UPDATE SET \
                   state = CASE WHEN jobs.input <> excluded.input OR $6 THEN 'pending' ELSE jobs.state END, \
                   tries = CASE WHEN jobs.input <> excluded.input OR $6 THEN 0 ELSE jobs.tries END, \
                   worker = CASE WHEN jobs.input <> excluded.input OR $6 THEN NULL ELSE jobs.worker END, \
                   output = CASE WHEN jobs.input <> excluded.input OR $6 THEN NULL ELSE jobs.output END, \
                   lease_until_ms = CASE WHEN jobs.input <> excluded.input OR $6 THEN NULL \
                                         ELSE jobs.lease_until_ms END, \
                   error = CASE WHEN jobs.input <> excluded.input OR $6 THEN NULL ELSE jobs.error END, \
                   run_after_ms = CASE WHEN jobs.input <> excluded.input OR $6 THEN excluded.run_after_ms \
                                       ELSE jobs.run_after_ms END, \
                   input = excluded.input, \
                   priority = CASE WHEN excluded.priority > jobs.priority THEN excluded.priority ELSE jobs.priority END, \
                   updated_at_ms = excluded.updated_at_ms \
                 WHERE jobs.state <> 'processing' OR jobs.input <> excluded.input OR $6",
            )
            .bind(kind)
            .bind(track_id)
            .bind(input)
            .bind(priority)
            .bind(now)
            .bind(force)
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    /// Queues loudness measurement for every track that has none and HLS packaging for every
    /// track whose package is missing or was made from another version of its file. One
    /// statement each, however large the library. Returns how many rows were queued or re-queued.
    pub async fn enqueue_missing(&self, hls: bool) -> Result<u64> {
        with_db!(self, pool => {
            let now = now_ms();
            let upsert = "ON CONFLICT (kind, track_id) DO UPDATE SET state = 'pending', tries = 0, \
                          worker = NULL, output = NULL, lease_until_ms = NULL, \
                          error = NULL, input = excluded.input, run_after_ms = excluded.run_after_ms, \
                          updated_at_ms = excluded.updated_at_ms \
                          WHERE jobs.input <> excluded.input";
            let mut queued = sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO jobs (kind, track_id, input, state, run_after_ms, created_at_ms, updated_at_ms) \
                 SELECT 'loudness', t.id, {TRACK_STAMP}, 'pending', $1, $1, $1 FROM tracks t \
                 WHERE t.loudness_lufs IS NULL {upsert}"
            )))
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected();
            if hls {
                queued += sqlx::query(AssertSqlSafe(format!(
                    "INSERT INTO jobs (kind, track_id, input, state, run_after_ms, created_at_ms, updated_at_ms) \
                     SELECT 'hls', t.id, {TRACK_STAMP}, 'pending', $1, $1, $1 FROM tracks t \
                     WHERE NOT EXISTS (SELECT 1 FROM hls_packages p WHERE p.track_id = t.id \
                                       AND p.input = {TRACK_STAMP}) {upsert}"
                )))
                .bind(now)
                .execute(pool)
                .await?
                .rows_affected();
            }
            Ok(queued)
        })
    }

    /// Claims the most urgent runnable job (pending and due, or processing under a lapsed
    /// lease) for `worker` until `lease_ms` from now, recording where it will write `output`
    /// before anything is written. `None` when there is nothing to do.
    ///
    /// A runnable job already tried `max_tries` times is failed instead: its workers keep
    /// dying on it (a crash or an out-of-memory kill never reaches `fail_job`), and claiming
    /// it again would crash-loop the node.
    pub async fn claim_job(
        &self,
        worker: &str,
        lease_ms: i64,
        max_tries: i64,
        output_for: impl Fn(&ClaimedJob) -> String,
    ) -> Result<Option<ClaimedJob>> {
        self.claim_job_of(worker, lease_ms, max_tries, None, output_for)
            .await
    }

    /// [`claim_job`](Self::claim_job) limited to one kind of job (`None`: any).
    pub async fn claim_job_of(
        &self,
        worker: &str,
        lease_ms: i64,
        max_tries: i64,
        kind: Option<&str>,
        output_for: impl Fn(&ClaimedJob) -> String,
    ) -> Result<Option<ClaimedJob>> {
        with_db!(self, pool => {
            let now = now_ms();
            sqlx::query(
                "UPDATE jobs SET state = 'failed', lease_until_ms = NULL, output = NULL, \
                   error = 'its worker stopped without finishing in each of ' \
                           || CAST(tries AS TEXT) || ' tries', updated_at_ms = $1 \
                 WHERE tries >= $2 AND ((state = 'pending' AND run_after_ms <= $1) \
                                        OR (state = 'processing' AND lease_until_ms < $1))",
            )
            .bind(now)
            .bind(max_tries)
            .execute(pool)
            .await?;
            // The outer condition repeats the inner one: under PostgreSQL's read committed, a
            // second claimer that waited on the row re-checks it and finds it taken. SKIP
            // LOCKED lets it move on to the next row instead of waiting.
            let sql = format!(
                "UPDATE jobs SET state = 'processing', attempts = attempts + 1, tries = tries + 1, worker = $1, \
                   lease_until_ms = $2, updated_at_ms = $3 \
                 WHERE id = (SELECT id FROM jobs \
                             WHERE ((state = 'pending' AND run_after_ms <= $3) \
                                    OR (state = 'processing' AND lease_until_ms < $3)) \
                               AND ($4 = '' OR kind = $4) \
                             ORDER BY priority DESC, id LIMIT 1{}) \
                   AND ((state = 'pending' AND run_after_ms <= $3) \
                        OR (state = 'processing' AND lease_until_ms < $3)) \
                 RETURNING id, kind, track_id, input, attempts, tries, worker",
                if PG { " FOR UPDATE SKIP LOCKED" } else { "" }
            );
            let claimed: Option<ClaimedJob> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(worker)
            .bind(now + lease_ms)
            .bind(now)
            .bind(kind.unwrap_or(""))
            .fetch_optional(pool)
            .await?;
            if let Some(job) = &claimed {
                sqlx::query(
                    "UPDATE jobs SET output = $1 WHERE id = $2 AND worker = $3 AND attempts = $4",
                )
                .bind(output_for(job))
                .bind(job.id)
                .bind(worker)
                .bind(job.attempts)
                .execute(pool)
                .await?;
            }
            Ok(claimed)
        })
    }

    /// Extends a claimed job's lease. `false` means the lease was lost (it lapsed and another
    /// worker took the job, or the job was re-queued): stop working on it.
    pub async fn renew_lease(&self, job: &ClaimedJob, lease_ms: i64) -> Result<bool> {
        with_db!(self, pool => {
            let now = now_ms();
            let r = sqlx::query(
                "UPDATE jobs SET lease_until_ms = $1, updated_at_ms = $2 \
                 WHERE id = $3 AND worker = $4 AND attempts = $5 AND state = 'processing'",
            )
            .bind(now + lease_ms)
            .bind(now)
            .bind(job.id)
            .bind(&job.worker)
            .bind(job.attempts)
            .execute(pool)
            .await?;
            Ok(r.rows_affected() == 1)
        })
    }

    /// Marks a claimed job done. `false` if the lease was lost meanwhile.
    pub async fn finish_job(&self, job: &ClaimedJob) -> Result<bool> {
        with_db!(self, pool => {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(FINISH_SQL)
                .bind(now_ms())
                .bind(job.id)
                .bind(&job.worker)
                .bind(job.attempts)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            tx.commit().await?;
            Ok(done)
        })
    }

    /// Records a failed attempt: pending again after `retry_in_ms`, or failed for good when
    /// `retry_in_ms` is `None`. `false` if the lease was lost meanwhile.
    pub async fn fail_job(
        &self,
        job: &ClaimedJob,
        error: &str,
        retry_in_ms: Option<i64>,
    ) -> Result<bool> {
        with_db!(self, pool => {
            let now = now_ms();
            let (state, run_after) = match retry_in_ms {
                Some(ms) => (PENDING, now + ms),
                None => (FAILED, now),
            };
            let r = sqlx::query(
                "UPDATE jobs SET state = $1, run_after_ms = $2, error = $3, lease_until_ms = NULL, \
                   output = NULL, updated_at_ms = $4 \
                 WHERE id = $5 AND worker = $6 AND attempts = $7 AND state = 'processing'",
            )
            .bind(state)
            .bind(run_after)
            .bind(error)
            .bind(now)
            .bind(job.id)
            .bind(&job.worker)
            .bind(job.attempts)
            .execute(pool)
            .await?;
            Ok(r.rows_affected() == 1)
        })
    }

    /// Removes a job whose track is gone.
    pub async fn drop_job(&self, job: &ClaimedJob) -> Result<()> {
        with_db!(self, pool => {
            sqlx::query("DELETE FROM jobs WHERE id = $1 AND worker = $2 AND attempts = $3")
                .bind(job.id)
                .bind(&job.worker)
                .bind(job.attempts)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    /// Puts this worker's own processing jobs back to pending at once (used at start-up: a
    /// node that restarts after a crash need not wait for its old leases to lapse).
    pub async fn release_jobs_of(&self, worker: &str) -> Result<u64> {
        with_db!(self, pool => {
            let now = now_ms();
            Ok(sqlx::query(
                "UPDATE jobs SET state = 'pending', lease_until_ms = NULL, output = NULL, \
                   run_after_ms = $1, updated_at_ms = $1 \
                 WHERE worker = $2 AND state = 'processing'",
            )
            .bind(now)
            .bind(worker)
            .execute(pool)
            .await?
            .rows_affected())
        })
    }

    /// Jobs matching `f`, newest first.
    pub async fn jobs(&self, f: &JobFilter) -> Result<Vec<Job>> {
        with_db!(self, pool => {
            Ok(sqlx::query_as(
                "SELECT id, kind, track_id, state, priority, attempts, tries, run_after_ms, lease_until_ms, \
                   worker, error, created_at_ms, updated_at_ms FROM jobs \
                 WHERE ($1 IS NULL OR state = $1) AND ($2 IS NULL OR kind = $2) \
                   AND ($3 IS NULL OR track_id = $3) \
                 ORDER BY id DESC LIMIT $4",
            )
            .bind(&f.state)
            .bind(&f.kind)
            .bind(&f.track_id)
            .bind(f.limit.clamp(1, 1000))
            .fetch_all(pool)
            .await?)
        })
    }

    /// One job by id.
    pub async fn job(&self, id: i64) -> Result<Option<Job>> {
        with_db!(self, pool => {
            Ok(sqlx::query_as(
                "SELECT id, kind, track_id, state, priority, attempts, tries, run_after_ms, lease_until_ms, \
                   worker, error, created_at_ms, updated_at_ms FROM jobs WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?)
        })
    }

    /// How many jobs are in each state.
    pub async fn job_counts(&self) -> Result<Vec<(String, i64)>> {
        with_db!(self, pool => {
            Ok(
                sqlx::query_as("SELECT state, COUNT(*) FROM jobs GROUP BY state ORDER BY state")
                    .fetch_all(pool)
                    .await?,
            )
        })
    }

    /// Publishes a finished HLS package and marks its job done, in one transaction, only if
    /// the job's lease still holds and the track is still the version that was packaged.
    /// Returns whether it was published and the prefix of the package it replaced (whose
    /// objects can go).
    pub async fn publish_hls(
        &self,
        job: &ClaimedJob,
        pkg: &HlsPackage,
    ) -> Result<(bool, Option<String>)> {
        with_db!(self, pool => {
            // Reads then writes: take the write lock first (SQLite would otherwise fail the
            // write with BUSY if a heartbeat wrote in between, throwing the encode away).
            let mut tx = crate::begin_write(pool, PG).await?;
            let current: Option<String> = sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT {TRACK_STAMP} FROM tracks t WHERE t.id = $1{}",
                crate::for_update(PG)
            )))
            .bind(&pkg.track_id)
            .fetch_optional(&mut *tx)
            .await?;
            if current.as_deref() != Some(pkg.input.as_str()) {
                return Ok((false, None));
            }
            let old: Option<String> =
                sqlx::query_scalar("SELECT prefix FROM hls_packages WHERE track_id = $1")
                    .bind(&pkg.track_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let finished = sqlx::query(FINISH_SQL)
                .bind(now_ms())
                .bind(job.id)
                .bind(&job.worker)
                .bind(job.attempts)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if finished != 1 {
                return Ok((false, None));
            }
            sqlx::query(
                "INSERT INTO hls_packages (track_id, input, prefix, key_hex, iv_hex, manifest, created_at_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (track_id) DO UPDATE SET input = excluded.input, prefix = excluded.prefix, \
                   key_hex = excluded.key_hex, iv_hex = excluded.iv_hex, manifest = excluded.manifest, \
                   created_at_ms = excluded.created_at_ms",
            )
            .bind(&pkg.track_id)
            .bind(&pkg.input)
            .bind(&pkg.prefix)
            .bind(&pkg.key_hex)
            .bind(&pkg.iv_hex)
            .bind(&pkg.manifest)
            .bind(pkg.created_at_ms)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok((true, old.filter(|o| o != &pkg.prefix)))
        })
    }

    /// A track's current HLS package, if one matching its file is published.
    pub async fn hls_package(&self, track_id: &str) -> Result<Option<HlsPackage>> {
        with_db!(self, pool => {
            Ok(sqlx::query_as(AssertSqlSafe(format!(
                "SELECT p.track_id, p.input, p.prefix, p.key_hex, p.iv_hex, p.manifest, p.created_at_ms \
                 FROM hls_packages p JOIN tracks t ON t.id = p.track_id \
                 WHERE p.track_id = $1 AND p.input = {TRACK_STAMP}"
            )))
            .bind(track_id)
            .fetch_optional(pool)
            .await?)
        })
    }

    /// Every output prefix that must stay: published packages and running jobs' outputs, read
    /// in one statement (two reads could miss a job that publishes between them).
    pub async fn live_outputs(&self) -> Result<Vec<String>> {
        with_db!(self, pool => {
            Ok(sqlx::query_scalar(
                "SELECT prefix FROM hls_packages UNION \
                 SELECT output FROM jobs WHERE state = 'processing' AND output IS NOT NULL",
            )
            .fetch_all(pool)
            .await?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NewTrack;

    async fn store_with_track() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).await.unwrap();
        let t = NewTrack {
            id: "t1".into(),
            path: "/m/t1.flac".into(),
            size_bytes: 10,
            mtime_ms: 20,
            ..Default::default()
        };
        store.upsert_tracks(&[t], 1).await.unwrap();
        (dir, store)
    }

    #[tokio::test]
    async fn claims_never_reuse_an_output_and_a_crash_loop_ends_in_failed() {
        let (_dir, store) = store_with_track().await;
        let input = input_stamp(10, 20);
        store
            .enqueue_job("hls", "t1", &input, 0, false)
            .await
            .unwrap();
        let out = |j: &ClaimedJob| format!("{}-{}", j.id, j.attempts);
        // A worker that dies: its lease (here 0 ms) lapses and the job is claimable again.
        let a = store.claim_job("w1", -1, 3, out).await.unwrap().unwrap();
        assert_eq!((a.attempts, a.tries), (1, 1));
        assert!(store.claim_job("w2", -1, 3, out).await.unwrap().is_some());
        // A forced re-run resets the tries but not the claim count, so the next claim writes
        // to a new output, and the old claims' leases are void.
        store
            .enqueue_job("hls", "t1", &input, 0, true)
            .await
            .unwrap();
        assert!(!store.renew_lease(&a, 1000).await.unwrap());
        let c = store.claim_job("w3", -1, 3, out).await.unwrap().unwrap();
        assert_eq!((c.attempts, c.tries), (3, 1), "a fresh claim number");
        assert!(store.claim_job("w4", -1, 3, out).await.unwrap().is_some());
        assert!(store.claim_job("w5", -1, 3, out).await.unwrap().is_some());
        // Three tries died without a word: the next claim fails the job instead.
        assert!(store.claim_job("w6", -1, 3, out).await.unwrap().is_none());
        let j = store.job(c.id).await.unwrap().unwrap();
        assert_eq!(j.state, FAILED);
        assert!(j.error.unwrap().contains("3 tries"));
    }

    #[tokio::test]
    async fn a_job_is_finished_only_under_its_own_lease() {
        let (_dir, store) = store_with_track().await;
        store
            .enqueue_job("loudness", "t1", &input_stamp(10, 20), 0, false)
            .await
            .unwrap();
        let out = |j: &ClaimedJob| format!("{}-{}", j.id, j.attempts);
        let first = store.claim_job("w1", -1, 5, out).await.unwrap().unwrap();
        let second = store
            .claim_job("w2", 60_000, 5, out)
            .await
            .unwrap()
            .unwrap();
        assert!(!store.finish_job(&first).await.unwrap(), "the lapsed claim");
        assert!(!store.fail_job(&first, "x", Some(1)).await.unwrap());
        assert!(store.finish_job(&second).await.unwrap());
        assert_eq!(store.job(second.id).await.unwrap().unwrap().state, READY);
        assert!(store
            .claim_job("w3", 60_000, 5, out)
            .await
            .unwrap()
            .is_none());
    }
}
