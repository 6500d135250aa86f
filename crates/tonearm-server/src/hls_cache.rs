//! A node's memory cache of HLS objects (segments and init segments), bounded in bytes, least
//! recently used out first. Popular tracks are served from memory; the rest come from object
//! storage (a local folder or S3) on demand.

use bytes::Bytes;
use std::collections::HashMap;
use std::sync::Mutex;

/// Bounded LRU of object bytes by key.
pub struct HlsCache {
    capacity: u64,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    map: HashMap<String, (Bytes, u64)>,
    bytes: u64,
    tick: u64,
}

impl HlsCache {
    pub fn new(capacity: u64) -> HlsCache {
        HlsCache {
            capacity,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// The cached bytes of `key`, marking them recently used.
    pub fn get(&self, key: &str) -> Option<Bytes> {
        let mut g = self.inner.lock().ok()?;
        g.tick += 1;
        let tick = g.tick;
        let e = g.map.get_mut(key)?;
        e.1 = tick;
        Some(e.0.clone())
    }

    /// Caches `bytes` at `key`, evicting the least recently used entries to stay in bounds.
    /// Entries larger than the whole cache are not kept.
    pub fn insert(&self, key: &str, bytes: Bytes) {
        let len = bytes.len() as u64;
        if len > self.capacity {
            return;
        }
        let Ok(mut g) = self.inner.lock() else { return };
        g.tick += 1;
        let tick = g.tick;
        if let Some((old, _)) = g.map.insert(key.to_string(), (bytes, tick)) {
            g.bytes -= old.len() as u64;
        }
        g.bytes += len;
        while g.bytes > self.capacity {
            // O(entries) per eviction: a few hundred segments fit, and evictions are rare
            // next to hits.
            let Some(oldest) = g
                .map
                .iter()
                .min_by_key(|(_, (_, t))| *t)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some((b, _)) = g.map.remove(&oldest) {
                g.bytes -= b.len() as u64;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_within_capacity_evicting_least_recently_used() {
        let c = HlsCache::new(10);
        c.insert("a", Bytes::from_static(b"1234"));
        c.insert("b", Bytes::from_static(b"1234"));
        assert!(c.get("a").is_some()); // a is now more recent than b
        c.insert("c", Bytes::from_static(b"1234"));
        assert!(c.get("b").is_none(), "least recently used went first");
        assert_eq!(c.get("a").as_deref(), Some(&b"1234"[..]));
        assert!(c.get("c").is_some());
        c.insert("big", Bytes::from(vec![0u8; 11]));
        assert!(c.get("big").is_none(), "larger than the cache: not kept");
        c.insert("a", Bytes::from_static(b"12"));
        assert_eq!(c.get("a").as_deref(), Some(&b"12"[..]), "replaced in place");
    }
}
