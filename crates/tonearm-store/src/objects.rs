//! Object storage for what the server derives from the library (HLS packages, resized covers): a folder under
//! the data dir by default, or an S3 bucket that several nodes share — one `object_store`
//! code path for both. Every put is atomic (a temp file renamed, or a single S3 PUT), so a
//! reader never sees half an object.

use bytes::Bytes;
use futures_util::StreamExt;
use object_store::path::Path as ObjPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

/// Where derived objects are kept: a folder under the data dir by default, or an S3 bucket
/// that several nodes share (`[storage]` in the server's config).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// `s3://bucket[/prefix]`, or unset for `<data>/objects`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// An S3-compatible endpoint (`http://127.0.0.1:9000`); unset for AWS itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_endpoint: Option<String>,
    /// Region for S3 (most S3-compatible servers ignore it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_region: Option<String>,
}

/// A failure to set up or use object storage.
#[derive(Debug, thiserror::Error)]
pub enum ObjectsError {
    #[error("storage.url must be s3://bucket[/prefix]: {0}")]
    BadUrl(String),
    #[error("object storage: {0}")]
    Store(#[from] object_store::Error),
    #[error("object not found")]
    NotFound,
}

/// The configured object store, rooted at an optional key prefix.
#[derive(Clone)]
pub struct Objects {
    store: Arc<dyn ObjectStore>,
    root: String,
    /// How the store was described (for logs and `/health`).
    pub describe: String,
}

impl Objects {
    /// Opens the store `config` names (the folder is `<data>/objects`).
    pub fn open(config: &StorageConfig, data: &Path) -> Result<Objects, ObjectsError> {
        match &config.url {
            None => {
                let dir = data.join("objects");
                std::fs::create_dir_all(&dir).map_err(|e| {
                    ObjectsError::Store(object_store::Error::Generic {
                        store: "local",
                        source: Box::new(e),
                    })
                })?;
                let local = object_store::local::LocalFileSystem::new_with_prefix(&dir)?
                    .with_automatic_cleanup(true);
                Ok(Objects {
                    store: Arc::new(local),
                    root: String::new(),
                    describe: format!("folder {}", dir.display()),
                })
            }
            Some(url) => {
                let rest = url
                    .strip_prefix("s3://")
                    .ok_or_else(|| ObjectsError::BadUrl(url.clone()))?;
                let (bucket, root) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.is_empty() {
                    return Err(ObjectsError::BadUrl(url.clone()));
                }
                let mut b = object_store::aws::AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .with_region(config.s3_region.as_deref().unwrap_or("us-east-1"));
                if let Some(ep) = &config.s3_endpoint {
                    b = b
                        .with_endpoint(ep)
                        .with_allow_http(ep.starts_with("http://"));
                }
                Ok(Objects {
                    store: Arc::new(b.build()?),
                    root: root.trim_matches('/').to_string(),
                    describe: format!("s3 bucket {bucket}"),
                })
            }
        }
    }

    fn path(&self, key: &str) -> ObjPath {
        if self.root.is_empty() {
            ObjPath::from(key)
        } else {
            ObjPath::from(format!("{}/{key}", self.root))
        }
    }

    /// Stores `bytes` at `key`, replacing what was there, atomically.
    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), ObjectsError> {
        self.store
            .put(&self.path(key), PutPayload::from_bytes(bytes))
            .await?;
        Ok(())
    }

    /// The whole object at `key`.
    pub async fn get(&self, key: &str) -> Result<Bytes, ObjectsError> {
        match self.store.get(&self.path(key)).await {
            Ok(r) => Ok(r.bytes().await?),
            Err(object_store::Error::NotFound { .. }) => Err(ObjectsError::NotFound),
            Err(e) => Err(e.into()),
        }
    }

    /// Bytes `range` of the object at `key`.
    pub async fn get_range(
        &self,
        key: &str,
        range: std::ops::Range<u64>,
    ) -> Result<Bytes, ObjectsError> {
        match self.store.get_range(&self.path(key), range).await {
            Ok(b) => Ok(b),
            Err(object_store::Error::NotFound { .. }) => Err(ObjectsError::NotFound),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes every object under `prefix/`.
    pub async fn delete_prefix(&self, prefix: &str) -> Result<u64, ObjectsError> {
        let mut listed = self.store.list(Some(&self.path(prefix)));
        let mut n = 0;
        while let Some(meta) = listed.next().await {
            match self.store.delete(&meta?.location).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => n += 1,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(n)
    }

    /// The distinct `depth`-part key prefixes under `prefix/` (e.g. depth 2 under `hls` lists
    /// `hls/<track>/<package>` once each), relative to the store's root.
    pub async fn prefixes(
        &self,
        prefix: &str,
        depth: usize,
    ) -> Result<BTreeSet<String>, ObjectsError> {
        let mut listed = self.store.list(Some(&self.path(prefix)));
        let skip = if self.root.is_empty() {
            0
        } else {
            self.root.split('/').count()
        };
        let mut out = BTreeSet::new();
        while let Some(meta) = listed.next().await {
            let meta = meta?;
            let parts: Vec<&str> = meta.location.as_ref().split('/').skip(skip).collect();
            if parts.len() > depth + 1 {
                out.insert(parts[..=depth].join("/"));
            }
        }
        Ok(out)
    }
}
