//! Walking library folders and bringing the catalog in step with them.
//!
//! A pipeline of bounded queues: walker thread → differ (compares a batch of stamps with the
//! catalog) → one prober per core → writer (transactions of [`BATCH`]). Incremental: a file whose
//! size and mtime match is not opened again, only marked as seen by this scan; at the end, files
//! under the root that the scan did not see are removed. No stage holds the library's file list,
//! so memory stays flat whatever the library size.

use crate::probe::probe_file;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, UNIX_EPOCH};
use tonearm_store::{FileStamp, NewTrack, ScanIssue, Store, StoreError};

/// Rows per write transaction.
pub const BATCH: usize = 500;

/// File extensions the scanner considers audio (content decides the actual format).
pub const AUDIO_EXTENSIONS: &[&str] = &[
    "mp3", "flac", "wav", "wave", "aif", "aiff", "aifc", "ogg", "oga", "opus", "m4a", "mp4", "m4b",
    "aac",
];

/// A scan that could not run at all (bad files never cause this).
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("library folder {0:?} cannot be read: {1}")]
    Root(PathBuf, std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a scan is already running")]
    Busy,
    #[error("scan task failed: {0}")]
    Internal(String),
}

/// Live counters of the current (or last) scan, shared with the API and the progress bar.
#[derive(Debug, Default)]
pub struct ScanProgress {
    running: AtomicBool,
    started_ms: AtomicU64,
    found: AtomicU64,
    unchanged: AtomicU64,
    probed: AtomicU64,
    failed: AtomicU64,
    removed: AtomicU64,
    finished_ms: AtomicU64,
}

/// A snapshot of [`ScanProgress`] for `GET /api/library/scan`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ScanStatus {
    pub running: bool,
    pub started_at_ms: u64,
    pub finished_at_ms: u64,
    /// Audio files found so far.
    pub found: u64,
    pub unchanged: u64,
    /// Files read (new or changed), including failures.
    pub probed: u64,
    pub failed: u64,
    pub removed: u64,
    pub files_per_second: f64,
}

fn now_ms() -> u64 {
    tonearm_store::now_ms().max(0) as u64
}

impl ScanProgress {
    /// Marks a scan as started; fails when one is already running.
    pub fn try_start(&self) -> Result<(), ScanError> {
        if self.running.swap(true, Ordering::SeqCst) {
            return Err(ScanError::Busy);
        }
        for c in [
            &self.found,
            &self.unchanged,
            &self.probed,
            &self.failed,
            &self.removed,
            &self.finished_ms,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        self.started_ms.store(now_ms(), Ordering::Relaxed);
        Ok(())
    }

    fn finish(&self) {
        self.finished_ms.store(now_ms(), Ordering::Relaxed);
        self.running.store(false, Ordering::SeqCst);
    }

    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }

    pub fn status(&self) -> ScanStatus {
        let started = self.started_ms.load(Ordering::Relaxed);
        let finished = self.finished_ms.load(Ordering::Relaxed);
        let end = if finished > 0 { finished } else { now_ms() };
        let found = self.found.load(Ordering::Relaxed);
        let secs = end.saturating_sub(started) as f64 / 1000.0;
        ScanStatus {
            running: self.is_running(),
            started_at_ms: started,
            finished_at_ms: finished,
            found,
            unchanged: self.unchanged.load(Ordering::Relaxed),
            probed: self.probed.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            removed: self.removed.load(Ordering::Relaxed),
            files_per_second: if secs > 0.0 { found as f64 / secs } else { 0.0 },
        }
    }
}

/// What a finished scan did.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ScanReport {
    pub found: u64,
    pub unchanged: u64,
    pub added_or_updated: u64,
    pub failed: u64,
    pub removed: u64,
    pub elapsed_ms: u64,
}

fn is_audio(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.iter().any(|a| a.eq_ignore_ascii_case(e)))
}

/// Whether `dir` holds an audio file anywhere below it (walked as a scan walks: symlinks not
/// followed). Stops at the first one.
pub fn has_audio(dir: &Path) -> bool {
    walkdir::WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .filter_map(Result::ok)
        .any(|e| e.file_type().is_file() && is_audio(e.path()))
}

/// A file's (size, mtime) stamp: what decides whether it changed since the catalog saw it.
pub fn file_stamp(meta: &std::fs::Metadata) -> FileStamp {
    let mtime_ms = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    FileStamp {
        size_bytes: meta.len() as i64,
        mtime_ms,
    }
}

enum Outcome {
    Track(Box<NewTrack>),
    Issue(ScanIssue),
}

/// Scans `roots`, updating `store`. The caller must have called [`ScanProgress::try_start`];
/// this function always marks the scan finished.
pub async fn scan(
    store: &Store,
    roots: &[PathBuf],
    progress: &Arc<ScanProgress>,
) -> Result<ScanReport, ScanError> {
    let started = Instant::now();
    let result = scan_roots(store, roots, progress).await;
    progress.finish();
    result?;
    // The progress counters are the one tally; the report is their final reading.
    let s = progress.status();
    Ok(ScanReport {
        found: s.found,
        unchanged: s.unchanged,
        added_or_updated: s.probed - s.failed,
        failed: s.failed,
        removed: s.removed,
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}

async fn scan_roots(
    store: &Store,
    roots: &[PathBuf],
    progress: &Arc<ScanProgress>,
) -> Result<(), ScanError> {
    // A generation number for this scan: rows it sees are stamped with it.
    let scan_id = now_ms() as i64;
    for root in roots {
        let root = std::fs::canonicalize(root).map_err(|e| ScanError::Root(root.clone(), e))?;
        scan_root(store, root, scan_id, progress).await?;
    }
    Ok(())
}

/// One walked file: its path and stamp.
type Walked = (PathBuf, FileStamp);

async fn scan_root(
    store: &Store,
    root: PathBuf,
    scan_id: i64,
    progress: &Arc<ScanProgress>,
) -> Result<(), ScanError> {
    let mut prefix = root.to_string_lossy().to_string();
    if !prefix.ends_with(std::path::MAIN_SEPARATOR) {
        prefix.push(std::path::MAIN_SEPARATOR);
    }
    let (walk_tx, mut walk_rx) = tokio::sync::mpsc::channel::<Walked>(1024);
    let (work_tx, work_rx) = tokio::sync::mpsc::channel::<Walked>(256);
    let (out_tx, mut out_rx) = tokio::sync::mpsc::channel::<Outcome>(256);

    // Walker: lists audio files with their stamps. Returns how many entries it could not read.
    let walker_progress = progress.clone();
    let walker = tokio::task::spawn_blocking(move || {
        let mut unreadable = 0u64;
        for entry in walkdir::WalkDir::new(&root).follow_links(false) {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read part of the library");
                    unreadable += 1;
                    continue;
                }
            };
            // Symlinks are skipped: they could point outside the library.
            if !entry.file_type().is_file() || !is_audio(entry.path()) {
                continue;
            }
            let Ok(meta) = entry.metadata() else {
                unreadable += 1;
                continue;
            };
            walker_progress.found.fetch_add(1, Ordering::Relaxed);
            if walk_tx
                .blocking_send((entry.into_path(), file_stamp(&meta)))
                .is_err()
            {
                break;
            }
        }
        unreadable
    });

    // Differ: compares a batch of walked files with the catalog; unchanged ones are marked seen,
    // the rest go to the probers. Memory is one batch, whatever the library size.
    let differ = {
        let store = store.clone();
        let progress = progress.clone();
        tokio::spawn(async move {
            let mut batch: Vec<Walked> = Vec::with_capacity(BATCH);
            loop {
                let more = walk_rx.recv_many(&mut batch, BATCH).await > 0;
                if batch.is_empty() && !more {
                    return Ok::<(), ScanError>(());
                }
                let paths: Vec<String> = batch
                    .iter()
                    .map(|(p, _)| p.to_string_lossy().to_string())
                    .collect();
                let known = store.stamps_for(&paths).await?;
                let mut unchanged = Vec::new();
                for ((path, stamp), key) in batch.drain(..).zip(paths) {
                    if known.get(&key) == Some(&stamp) {
                        unchanged.push(key);
                    } else if work_tx.send((path, stamp)).await.is_err() {
                        return Ok(());
                    }
                }
                progress
                    .unchanged
                    .fetch_add(unchanged.len() as u64, Ordering::Relaxed);
                store.mark_seen(&unchanged, scan_id).await?;
            }
        })
    };

    // Probers: one per core, each reading from the shared queue.
    let work_rx = Arc::new(Mutex::new(work_rx));
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let mut probers = Vec::new();
    for _ in 0..workers {
        let rx = work_rx.clone();
        let tx = out_tx.clone();
        probers.push(tokio::task::spawn_blocking(move || loop {
            let next = match rx.lock() {
                Ok(mut guard) => guard.blocking_recv(),
                Err(_) => return,
            };
            let Some((path, stamp)) = next else { return };
            let outcome = match probe_file(&path, stamp.size_bytes, stamp.mtime_ms) {
                Ok(t) => Outcome::Track(Box::new(t)),
                Err(e) => Outcome::Issue(ScanIssue {
                    path: path.to_string_lossy().to_string(),
                    size_bytes: stamp.size_bytes,
                    mtime_ms: stamp.mtime_ms,
                    reason: e.0,
                }),
            };
            if tx.blocking_send(outcome).is_err() {
                return;
            }
        }));
    }
    drop(out_tx);

    // Writer: batches results into transactions.
    let mut tracks = Vec::with_capacity(BATCH);
    let mut issues = Vec::new();
    while let Some(outcome) = out_rx.recv().await {
        progress.probed.fetch_add(1, Ordering::Relaxed);
        match outcome {
            Outcome::Track(t) => tracks.push(*t),
            Outcome::Issue(i) => {
                tracing::info!(path = %i.path, reason = %i.reason, "skipped file");
                progress.failed.fetch_add(1, Ordering::Relaxed);
                issues.push(i)
            }
        }
        if tracks.len() >= BATCH {
            store.upsert_tracks(&tracks, scan_id).await?;
            tracks.clear();
        }
        if issues.len() >= BATCH {
            store.record_issues(&issues, scan_id).await?;
            issues.clear();
        }
    }
    store.upsert_tracks(&tracks, scan_id).await?;
    store.record_issues(&issues, scan_id).await?;
    for p in probers {
        let _ = p.await;
    }
    let differ_result = differ.await;
    let unreadable = walker.await.unwrap_or(1);
    match differ_result {
        Ok(Ok(())) if unreadable == 0 => {
            let removed = store.remove_unseen(&prefix, scan_id).await?;
            progress.removed.fetch_add(removed, Ordering::Relaxed);
        }
        Ok(Ok(())) => {
            // Part of the tree could not be read (permissions, a disk going away): keep every
            // track rather than mistake unreadable files for deleted ones.
            tracing::warn!(unreadable, root = %prefix, "skipping removal of missing files");
        }
        Ok(Err(e)) => return Err(e),
        Err(e) => return Err(ScanError::Internal(e.to_string())),
    }
    Ok(())
}
