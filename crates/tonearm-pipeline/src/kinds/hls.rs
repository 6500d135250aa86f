//! The HLS packaging job: encode the ladder with a fresh key, store every file under the
//! attempt's own prefix, then publish the package row and finish the job in one transaction.

use crate::{JobError, JobKind, Outcome, Pipeline};
use bytes::Bytes;
use futures_util::future::BoxFuture;
use std::collections::HashSet;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use tonearm_media::hls::{hex, package as package_track, PackageOptions, Piece, LADDER};
use tonearm_media::MediaError;
use tonearm_store::{ClaimedJob, HlsPackage};

/// The `hls` kind.
pub struct HlsJob;

impl JobKind for HlsJob {
    fn name(&self) -> &'static str {
        crate::HLS
    }

    fn run<'a>(
        &'a self,
        p: &'a Pipeline,
        job: &'a ClaimedJob,
        cancel: &'a Arc<AtomicBool>,
    ) -> BoxFuture<'a, Result<Outcome, JobError>> {
        Box::pin(package(p, job, cancel))
    }

    fn sweep<'a>(&'a self, p: &'a Pipeline) -> BoxFuture<'a, Result<u64, String>> {
        Box::pin(sweep(p))
    }
}

/// Packages the job's track.
async fn package(
    p: &Pipeline,
    job: &ClaimedJob,
    cancel: &Arc<AtomicBool>,
) -> Result<Outcome, JobError> {
    let src = match p.job_source(job).await? {
        Ok(src) => src,
        Err(outcome) => return Ok(outcome),
    };
    let prefix = crate::output_prefix(&job.kind, &job.track_id, job.id, job.attempts);
    let key: [u8; 16] = rand::random();
    let iv: [u8; 16] = rand::random();
    let opts = PackageOptions {
        bitrates: LADDER.to_vec(),
        key,
        iv,
        pace: (p.config.pace > 0.0).then_some(p.config.pace),
    };
    let objects = p.objects.clone();
    let handle = tokio::runtime::Handle::current();
    let (path, frames) = (
        std::path::PathBuf::from(&src.path),
        src.frames.max(0) as u64,
    );
    let (cancel2, prefix2) = (cancel.clone(), prefix.clone());
    let made = tokio::task::spawn_blocking(move || {
        // Called from the encoder threads: each stores its own files as they finish.
        let sink = |p: Piece| {
            handle
                .block_on(objects.put(&format!("{prefix2}/{}", p.name), Bytes::from(p.bytes)))
                .map_err(|e| MediaError::Io(std::io::Error::other(e.to_string())))
        };
        package_track(&path, &opts, frames, &cancel2, &sink)
    })
    .await;
    let made = match made {
        Ok(m) => m,
        Err(panicked) => {
            discard(p, &prefix).await;
            return Err(JobError::retry(panicked));
        }
    };
    let manifest = match made {
        Ok(m) => m,
        Err(e) => {
            discard(p, &prefix).await;
            return match e {
                MediaError::Cancelled => Ok(Outcome::Superseded),
                e => Err(e.into()),
            };
        }
    };
    let row = HlsPackage {
        track_id: job.track_id.clone(),
        input: job.input.clone(),
        prefix: prefix.clone(),
        key_hex: hex(&key),
        iv_hex: hex(&iv),
        manifest: serde_json::to_string(&manifest).map_err(JobError::retry)?,
        created_at_ms: tonearm_store::now_ms(),
    };
    match p.store.publish_hls(job, &row).await {
        Ok((true, old)) => {
            if let Some(old) = old {
                discard(p, &old).await;
            }
            Ok(Outcome::Published)
        }
        Ok((false, _)) => {
            discard(p, &prefix).await;
            Ok(Outcome::Superseded)
        }
        Err(e) => {
            discard(p, &prefix).await;
            Err(e.into())
        }
    }
}

/// Removes a package's objects (best effort: the sweep retries what is left).
async fn discard(p: &Pipeline, prefix: &str) {
    if let Err(e) = p.objects.delete_prefix(prefix).await {
        tracing::warn!(prefix, error = %e, "could not remove objects; the sweep will");
    }
}

/// Removes package prefixes that no published package and no running job owns. Lists the
/// store first and reads the database second: a prefix a job starts writing after the
/// listing is not in it, and one listed while its job ran is still owned in the database read
/// (by the job, or by its package if it published meanwhile: both come from one statement),
/// because a job records its output before it writes anything.
pub async fn sweep(p: &Pipeline) -> Result<u64, String> {
    let listed = p
        .objects
        .prefixes(crate::HLS, 2)
        .await
        .map_err(|e| e.to_string())?;
    if listed.is_empty() {
        return Ok(0);
    }
    let keep: HashSet<String> = p
        .store
        .live_outputs()
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .collect();
    let mut removed = 0;
    for prefix in listed.iter().filter(|prefix| !keep.contains(*prefix)) {
        removed += p
            .objects
            .delete_prefix(prefix)
            .await
            .map_err(|e| e.to_string())?;
    }
    if removed > 0 {
        tracing::info!(
            objects = removed,
            "removed leftovers of interrupted packaging"
        );
    }
    Ok(removed)
}
