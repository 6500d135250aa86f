//! Transcoded chunks: made once, shared by every listener, kept hot in memory and on disk.
//!
//! A chunk (a few seconds of one stream) is the unit of work. Asking for a chunk either finds it
//! in memory, joins the encode already running for it (single flight: concurrent listeners share
//! one encode), or starts one, which first looks in the disk cache. Readers tail a running encode
//! as it grows, so the first bytes go out as soon as the first frame is made. When the last reader
//! of a running encode goes away the encode stops, unless it was a prefetch.
//!
//! Written here rather than with a cache crate because entries are born incomplete and tailed
//! while they grow, which the general-purpose caches do not model.

use crate::config::CacheConfig;
use bytes::Bytes;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::watch;
use tonearm_media::{encode_chunk, Format, MediaError, Quality, StreamPlan, TranscodeSpec};

/// Identifies one transcoded stream. `stamp` changes when the source file changes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StreamKey {
    pub track_id: String,
    pub format: Format,
    pub quality: Quality,
    /// Normalization gain in thousandths (1000 = unchanged), so equal gains share a cache entry.
    pub gain_milli: u32,
    pub stamp: i64,
}

impl StreamKey {
    /// A string naming this stream, for ETags and cache file names.
    pub fn tag(&self) -> String {
        format!(
            "{}-{}-{}-{}-{:x}",
            self.track_id, self.format, self.quality, self.gain_milli, self.stamp
        )
    }
}

/// One chunk of one stream.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChunkKey {
    pub stream: StreamKey,
    pub chunk: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JobState {
    Running,
    Done,
    Failed,
}

#[derive(Debug, Clone, Copy)]
struct Progress {
    len: usize,
    state: JobState,
}

/// A chunk being made.
struct ChunkJob {
    data: Mutex<Vec<u8>>,
    /// Set (under the `data` lock) when the chunk is complete; `data` is then empty.
    complete: OnceLock<Bytes>,
    progress: watch::Sender<Progress>,
    readers: AtomicUsize,
    cancel: AtomicBool,
    /// Prefetches and HEAD warm-ups run to completion even with no reader.
    pinned: AtomicBool,
}

impl ChunkJob {
    fn append(&self, unit: &[u8]) {
        let len = {
            let Ok(mut data) = self.data.lock() else {
                return;
            };
            data.extend_from_slice(unit);
            data.len()
        };
        self.progress.send_modify(|p| p.len = len);
    }

    fn finish(&self) -> Bytes {
        let bytes = match self.data.lock() {
            Ok(mut data) => {
                let b = Bytes::from(std::mem::take(&mut *data));
                let _ = self.complete.set(b.clone());
                b
            }
            Err(_) => Bytes::new(),
        };
        self.progress.send_modify(|p| p.state = JobState::Done);
        bytes
    }

    fn fail(&self) {
        self.progress.send_modify(|p| p.state = JobState::Failed);
    }

    /// Bytes `off..off+max` if already made.
    fn slice(&self, off: usize, max: usize) -> Option<Bytes> {
        let data = self.data.lock().ok()?;
        if let Some(b) = self.complete.get() {
            return (off < b.len()).then(|| b.slice(off..(off + max).min(b.len())));
        }
        (off < data.len()).then(|| Bytes::copy_from_slice(&data[off..(off + max).min(data.len())]))
    }
}

/// Counters exposed on `/health` and `/metrics`.
#[derive(Debug, Default)]
pub struct CacheStats {
    pub memory_hits: AtomicU64,
    pub disk_hits: AtomicU64,
    /// Requests that joined an encode already running.
    pub shared: AtomicU64,
    pub misses: AtomicU64,
    pub encodes_started: AtomicU64,
    pub encodes_cancelled: AtomicU64,
    pub encodes_failed: AtomicU64,
    pub evictions: AtomicU64,
    pub bytes_served: AtomicU64,
}

impl CacheStats {
    /// Share of chunk requests answered without starting an encode.
    pub fn hit_ratio(&self) -> f64 {
        let hits = self.memory_hits.load(Ordering::Relaxed)
            + self.disk_hits.load(Ordering::Relaxed)
            + self.shared.load(Ordering::Relaxed);
        let total = hits + self.misses.load(Ordering::Relaxed);
        if total == 0 {
            0.0
        } else {
            hits as f64 / total as f64
        }
    }
}

struct MemEntry {
    bytes: Bytes,
    last_access: Instant,
}

#[derive(Default)]
struct MemCache {
    map: HashMap<ChunkKey, MemEntry>,
    bytes: u64,
}

impl MemCache {
    /// Drops all but the `n` most recently used entries (one sort, not a scan per entry).
    fn keep_newest(&mut self, n: usize) {
        if self.map.len() <= n {
            return;
        }
        let mut by_age: Vec<(Instant, ChunkKey)> = self
            .map
            .iter()
            .map(|(k, e)| (e.last_access, k.clone()))
            .collect();
        by_age.sort_unstable_by_key(|(t, _)| *t);
        let drop = self.map.len() - n;
        for (_, k) in by_age.into_iter().take(drop) {
            if let Some(e) = self.map.remove(&k) {
                self.bytes -= e.bytes.len() as u64;
            }
        }
    }

    fn remove_oldest(&mut self) -> bool {
        let Some(k) = self
            .map
            .iter()
            .min_by_key(|(_, e)| e.last_access)
            .map(|(k, _)| k.clone())
        else {
            return false;
        };
        if let Some(e) = self.map.remove(&k) {
            self.bytes -= e.bytes.len() as u64;
        }
        true
    }
}

/// The transcode cache and the single-flight table of running encodes.
pub struct ChunkCache {
    mem: Mutex<MemCache>,
    running: Mutex<HashMap<ChunkKey, Arc<ChunkJob>>>,
    disk: DiskCache,
    config: CacheConfig,
    pub stats: CacheStats,
}

/// Where a reader gets its bytes.
enum Source {
    Ready(Bytes),
    Running(Arc<ChunkJob>, watch::Receiver<Progress>),
}

/// A reader of one chunk. Dropping the last reader of a running, unpinned encode cancels it.
pub struct ChunkReader {
    source: Source,
}

/// A chunk could not be produced.
#[derive(Debug, thiserror::Error)]
#[error("transcode failed")]
pub struct ChunkFailed;

impl ChunkReader {
    /// The bytes at `off..` (at most `max`), waiting for the encoder if needed.
    /// `Ok(None)` is the end of the chunk.
    pub async fn read_at(&mut self, off: usize, max: usize) -> Result<Option<Bytes>, ChunkFailed> {
        match &mut self.source {
            Source::Ready(b) => Ok((off < b.len()).then(|| b.slice(off..(off + max).min(b.len())))),
            Source::Running(job, rx) => {
                let p = *rx
                    .wait_for(|p| p.len > off || p.state != JobState::Running)
                    .await
                    .map_err(|_| ChunkFailed)?;
                if p.state == JobState::Failed {
                    return Err(ChunkFailed);
                }
                Ok(job.slice(off, max))
            }
        }
    }
}

impl Drop for ChunkReader {
    fn drop(&mut self) {
        if let Source::Running(job, _) = &self.source {
            // Reader count and cancel change together under the data lock, so a reader joining
            // at this moment either keeps the encode alive or sees it cancelled and starts anew.
            let _guard = job.data.lock();
            let left = job.readers.fetch_sub(1, Ordering::AcqRel) - 1;
            if left == 0 && !job.pinned.load(Ordering::Acquire) && job.complete.get().is_none() {
                job.cancel.store(true, Ordering::Release);
            }
        }
    }
}

impl ChunkCache {
    pub fn new(config: CacheConfig, disk_dir: PathBuf) -> Arc<ChunkCache> {
        Arc::new(ChunkCache {
            mem: Mutex::new(MemCache::default()),
            running: Mutex::new(HashMap::new()),
            disk: DiskCache::open(disk_dir, config.disk_bytes),
            config,
            stats: CacheStats::default(),
        })
    }

    /// Entries and bytes held in memory.
    pub fn memory_usage(&self) -> (usize, u64) {
        self.mem
            .lock()
            .map(|m| (m.map.len(), m.bytes))
            .unwrap_or((0, 0))
    }

    /// Encodes running right now.
    pub fn running(&self) -> usize {
        self.running.lock().map(|r| r.len()).unwrap_or(0)
    }

    /// A reader over the chunk if it is in memory (and a hit counted).
    fn memory_hit(&self, key: &ChunkKey) -> Option<ChunkReader> {
        let mut mem = self.mem.lock().ok()?;
        let e = mem.map.get_mut(key)?;
        e.last_access = Instant::now();
        self.stats.memory_hits.fetch_add(1, Ordering::Relaxed);
        Some(ChunkReader {
            source: Source::Ready(e.bytes.clone()),
        })
    }

    /// Opens chunk `key` of a stream. With `pin`, a started encode runs to completion even if
    /// nobody reads it (prefetch).
    pub fn open(
        self: &Arc<Self>,
        key: ChunkKey,
        plan: &Arc<StreamPlan>,
        path: &Path,
        spec: TranscodeSpec,
        pin: bool,
    ) -> ChunkReader {
        if let Some(hit) = self.memory_hit(&key) {
            return hit;
        }
        let mut running = match self.running.lock() {
            Ok(r) => r,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(job) = running.get(&key) {
            let joined = {
                let _guard = job.data.lock();
                let alive = !job.cancel.load(Ordering::Acquire);
                if alive {
                    job.readers.fetch_add(1, Ordering::AcqRel);
                    if pin {
                        job.pinned.store(true, Ordering::Release);
                    }
                }
                alive
            };
            if joined {
                self.stats.shared.fetch_add(1, Ordering::Relaxed);
                let rx = job.progress.subscribe();
                return ChunkReader {
                    source: Source::Running(job.clone(), rx),
                };
            }
        }
        // The encode may have finished between the memory check and taking this lock; it
        // publishes to memory before leaving `running`, so a second look settles it.
        if let Some(hit) = self.memory_hit(&key) {
            return hit;
        }
        let (tx, rx) = watch::channel(Progress {
            len: 0,
            state: JobState::Running,
        });
        let job = Arc::new(ChunkJob {
            data: Mutex::new(Vec::new()),
            complete: OnceLock::new(),
            progress: tx,
            readers: AtomicUsize::new(1),
            cancel: AtomicBool::new(false),
            pinned: AtomicBool::new(pin),
        });
        running.insert(key.clone(), job.clone());
        drop(running);
        let cache = self.clone();
        let (plan, path, job2) = (plan.clone(), path.to_path_buf(), job.clone());
        tokio::task::spawn_blocking(move || {
            // A decoder bug on a hostile file must fail this chunk, not hang its readers.
            let run = std::panic::AssertUnwindSafe(|| {
                cache.make_chunk(key.clone(), &plan, &path, spec, &job2)
            });
            if std::panic::catch_unwind(run).is_err() {
                tracing::error!(chunk = key.chunk, track = %key.stream.track_id, "encoder panicked");
                cache.stats.encodes_failed.fetch_add(1, Ordering::Relaxed);
                job2.fail();
                if let Ok(mut running) = cache.running.lock() {
                    if running.get(&key).is_some_and(|j| Arc::ptr_eq(j, &job2)) {
                        running.remove(&key);
                    }
                }
            }
        });
        ChunkReader {
            source: Source::Running(job, rx),
        }
    }

    fn make_chunk(
        &self,
        key: ChunkKey,
        plan: &StreamPlan,
        path: &Path,
        spec: TranscodeSpec,
        job: &Arc<ChunkJob>,
    ) {
        let (start, end) = plan.chunk_range(key.chunk);
        let expected = (end - start) as usize;
        let result = if let Some(bytes) = self.disk.get(&key, expected) {
            self.stats.disk_hits.fetch_add(1, Ordering::Relaxed);
            job.append(&bytes);
            Ok(false)
        } else {
            self.stats.misses.fetch_add(1, Ordering::Relaxed);
            self.stats.encodes_started.fetch_add(1, Ordering::Relaxed);
            encode_chunk(path, plan, spec, key.chunk, &mut |unit| {
                if job.cancel.load(Ordering::Acquire) {
                    return false;
                }
                job.append(unit);
                true
            })
            .map(|_| true)
        };
        let made_len = job.data.lock().map(|d| d.len()).unwrap_or(0);
        match result {
            Ok(encoded) if made_len == expected => {
                let bytes = job.finish();
                if encoded {
                    self.disk.put(&key, &bytes);
                }
                self.insert_memory(key.clone(), bytes);
            }
            Ok(_) => {
                tracing::error!(chunk = key.chunk, track = %key.stream.track_id, made_len, expected, "chunk length mismatch");
                self.stats.encodes_failed.fetch_add(1, Ordering::Relaxed);
                job.fail();
            }
            Err(MediaError::Cancelled) => {
                tracing::debug!(chunk = key.chunk, track = %key.stream.track_id, "encode cancelled: no listener left");
                self.stats.encodes_cancelled.fetch_add(1, Ordering::Relaxed);
                job.fail();
            }
            Err(e) => {
                tracing::error!(chunk = key.chunk, track = %key.stream.track_id, error = %e, "encode failed");
                self.stats.encodes_failed.fetch_add(1, Ordering::Relaxed);
                job.fail();
            }
        }
        if let Ok(mut running) = self.running.lock() {
            // A cancelled job may already have been replaced by a new one for the same chunk.
            if running.get(&key).is_some_and(|j| Arc::ptr_eq(j, job)) {
                running.remove(&key);
            }
        }
    }

    fn insert_memory(&self, key: ChunkKey, bytes: Bytes) {
        let budget = self.config.memory_bytes;
        let Ok(mut mem) = self.mem.lock() else { return };
        if bytes.len() as u64 > budget {
            return;
        }
        while mem.bytes + bytes.len() as u64 > budget && mem.remove_oldest() {
            self.stats.evictions.fetch_add(1, Ordering::Relaxed);
        }
        mem.bytes += bytes.len() as u64;
        if let Some(old) = mem.map.insert(
            key,
            MemEntry {
                bytes,
                last_access: Instant::now(),
            },
        ) {
            mem.bytes -= old.bytes.len() as u64;
        }
    }

    /// Drops memory entries idle for longer than the configured time, and half of the rest when
    /// the system is short of memory. Returns how many entries were dropped.
    pub fn sweep(&self, available_memory: Option<u64>) -> usize {
        let idle = Duration::from_secs(self.config.idle_secs);
        let Ok(mut mem) = self.mem.lock() else {
            return 0;
        };
        let before = mem.map.len();
        let now = Instant::now();
        let mut freed = 0;
        mem.map.retain(|_, e| {
            let keep = now.duration_since(e.last_access) < idle;
            if !keep {
                freed += e.bytes.len() as u64;
            }
            keep
        });
        mem.bytes -= freed;
        if available_memory.is_some_and(|a| a < self.config.min_available_memory_bytes) {
            let target = mem.map.len() / 2;
            mem.keep_newest(target);
        }
        let dropped = before - mem.map.len();
        self.stats
            .evictions
            .fetch_add(dropped as u64, Ordering::Relaxed);
        dropped
    }
}

/// Completed chunks on disk, bounded in bytes (oldest access evicted first).
struct DiskCache {
    dir: PathBuf,
    budget: u64,
    bytes: AtomicU64,
}

impl DiskCache {
    fn open(dir: PathBuf, budget: u64) -> DiskCache {
        let _ = std::fs::create_dir_all(&dir);
        let mut total = 0;
        if let Ok(rd) = std::fs::read_dir(&dir) {
            for e in rd.flatten() {
                let p = e.path();
                // Leftovers of a crash mid-write are never served: remove them.
                if p.extension().is_some_and(|x| x == "tmp") {
                    let _ = std::fs::remove_file(&p);
                } else if let Ok(m) = e.metadata() {
                    total += m.len();
                }
            }
        }
        DiskCache {
            dir,
            budget,
            bytes: AtomicU64::new(total),
        }
    }

    fn path(&self, key: &ChunkKey) -> PathBuf {
        let name = blake3::hash(format!("{}#{}", key.stream.tag(), key.chunk).as_bytes()).to_hex();
        self.dir.join(format!("{}.chunk", &name[..32]))
    }

    fn get(&self, key: &ChunkKey, expected: usize) -> Option<Vec<u8>> {
        let p = self.path(key);
        let bytes = std::fs::read(&p).ok()?;
        if bytes.len() != expected {
            if std::fs::remove_file(&p).is_ok() {
                let len = bytes.len() as u64;
                let _ = self
                    .bytes
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| {
                        Some(b.saturating_sub(len))
                    });
            }
            return None;
        }
        if let Ok(f) = std::fs::File::options().write(true).open(&p) {
            let _ = f.set_modified(SystemTime::now());
        }
        Some(bytes)
    }

    /// Writes atomically (temp file + rename), then trims the cache to its budget.
    fn put(&self, key: &ChunkKey, bytes: &[u8]) {
        if self.budget == 0 {
            return;
        }
        let p = self.path(key);
        // A unique temp name: two encodes of one chunk (a cancelled one and its replacement)
        // may finish together.
        let tmp = p.with_extension(format!("{}.tmp", rand::random::<u64>()));
        if std::fs::write(&tmp, bytes)
            .and_then(|_| std::fs::rename(&tmp, &p))
            .is_err()
        {
            let _ = std::fs::remove_file(&tmp);
            return;
        }
        let total =
            self.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed) + bytes.len() as u64;
        if total > self.budget {
            self.trim();
        }
    }

    fn trim(&self) {
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut files: Vec<(SystemTime, u64, PathBuf)> = rd
            .flatten()
            .filter_map(|e| {
                let m = e.metadata().ok()?;
                Some((m.modified().ok()?, m.len(), e.path()))
            })
            .collect();
        files.sort();
        let mut total: u64 = files.iter().map(|f| f.1).sum();
        let target = self.budget / 10 * 9;
        for (_, len, p) in files {
            if total <= target {
                break;
            }
            if std::fs::remove_file(&p).is_ok() {
                total -= len;
            }
        }
        self.bytes.store(total, Ordering::Relaxed);
    }
}

/// The system's available memory from `/proc/meminfo`, where there is one.
pub fn available_memory() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = s.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(chunk: u64) -> ChunkKey {
        ChunkKey {
            stream: StreamKey {
                track_id: "t".into(),
                format: Format::Mp3,
                quality: Quality::Low,
                gain_milli: 1000,
                stamp: 1,
            },
            chunk,
        }
    }

    fn cache(memory_bytes: u64, idle_secs: u64) -> (tempfile::TempDir, Arc<ChunkCache>) {
        let dir = tempfile::tempdir().unwrap();
        let config = CacheConfig {
            memory_bytes,
            idle_secs,
            disk_bytes: 10_000,
            min_available_memory_bytes: 1000,
        };
        let c = ChunkCache::new(config, dir.path().join("t"));
        (dir, c)
    }

    #[test]
    fn memory_stays_within_budget_evicting_least_recently_used() {
        let (_d, c) = cache(250, 3600);
        c.insert_memory(key(0), Bytes::from(vec![0; 100]));
        c.insert_memory(key(1), Bytes::from(vec![1; 100]));
        // Touch chunk 0 so chunk 1 is the least recently used.
        c.mem
            .lock()
            .unwrap()
            .map
            .get_mut(&key(0))
            .unwrap()
            .last_access = Instant::now() + Duration::from_secs(1);
        c.insert_memory(key(2), Bytes::from(vec![2; 100]));
        let mem = c.mem.lock().unwrap();
        assert_eq!(mem.bytes, 200);
        assert!(mem.map.contains_key(&key(0)) && mem.map.contains_key(&key(2)));
        assert!(!mem.map.contains_key(&key(1)));
        drop(mem);
        // Larger than the whole budget: not cached at all.
        c.insert_memory(key(3), Bytes::from(vec![3; 300]));
        assert_eq!(c.memory_usage(), (2, 200));
    }

    #[test]
    fn sweep_drops_idle_entries_and_sheds_half_under_pressure() {
        let (_d, c) = cache(10_000, 0);
        c.insert_memory(key(0), Bytes::from(vec![0; 10]));
        assert_eq!(c.sweep(None), 1, "idle longer than 0 s");
        let (_d, c) = cache(10_000, 3600);
        for k in 0..6 {
            c.insert_memory(key(k), Bytes::from(vec![0; 10]));
        }
        assert_eq!(
            c.sweep(Some(1_000_000)),
            0,
            "plenty of memory: nothing dropped"
        );
        assert_eq!(c.sweep(Some(10)), 3, "short of memory: half dropped");
        assert_eq!(c.memory_usage(), (3, 30));
    }

    #[test]
    fn disk_cache_is_bounded_and_rejects_wrong_lengths() {
        let dir = tempfile::tempdir().unwrap();
        let disk = DiskCache::open(dir.path().join("d"), 2500);
        for k in 0..5 {
            disk.put(&key(k), &vec![k as u8; 1000]);
        }
        let total: u64 = std::fs::read_dir(dir.path().join("d"))
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len())
            .sum();
        assert!(total <= 2500, "disk cache holds {total} bytes");
        assert_eq!(
            disk.get(&key(4), 1000).as_deref(),
            Some(&vec![4u8; 1000][..])
        );
        assert_eq!(
            disk.get(&key(4), 999),
            None,
            "a file of the wrong length is never served"
        );
        assert_eq!(disk.get(&key(4), 1000), None, "and it was removed");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn the_last_reader_leaving_cancels_the_encode_and_nothing_is_cached() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("s.wav");
        let pcm = tonearm_media::synth::sine(440.0, 30.0, 44_100, 2, 0.3);
        tonearm_media::synth::write_wav(std::fs::File::create(&src).unwrap(), &pcm).unwrap();
        let plan = Arc::new(StreamPlan::new(
            Format::Mp3,
            Quality::High,
            44_100,
            2,
            pcm.frames() as u64,
            312,
        ));
        let (_d, c) = cache(1 << 30, 3600);
        let spec = TranscodeSpec { gain: 1.0 };
        // Opened and dropped at once: the encode has barely started when its only reader leaves.
        drop(c.open(key(0), &plan, &src, spec, false));
        let deadline = Instant::now() + Duration::from_secs(30);
        while c.running() > 0 {
            assert!(Instant::now() < deadline, "encode never stopped");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(c.stats.encodes_cancelled.load(Ordering::Relaxed), 1);
        assert_eq!(
            c.memory_usage(),
            (0, 0),
            "a cancelled chunk is never cached"
        );
        // A pinned open (prefetch) of the same chunk runs to completion with no reader.
        drop(c.open(key(0), &plan, &src, spec, true));
        let deadline = Instant::now() + Duration::from_secs(30);
        while c.running() > 0 {
            assert!(Instant::now() < deadline, "prefetch never finished");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let (start, end) = plan.chunk_range(0);
        assert_eq!(c.memory_usage(), (1, end - start));
    }
}
