//! The local blob store: a folder of objects behind signed, expiring URLs that the local
//! server answers, mimicking presigned S3 URLs — and, unlike moto, enforcing them: the
//! signature, the expiry, and for uploads the exact content type and length.

use std::fs;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use todo_domain::auth::{Secret, hex};
use todo_domain::model::Timestamp;
use todo_domain::ports::{BlobStore, ObjectInfo, ObjectKey, PresignedRequest, StoreError, StoreResult, UploadSpec, content_disposition};

/// The path prefix the local server answers blob URLs on.
pub const BLOB_PATH: &str = "/blobs/";
/// The folder of the data dir that holds the objects, under their keys.
pub const BLOB_DIR: &str = "blobs";

#[derive(Clone)]
pub struct LocalBlobs {
    dir: PathBuf,
    base_url: String,
    key: Vec<u8>,
}

impl std::fmt::Debug for LocalBlobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalBlobs").field("dir", &self.dir).field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

/// The signed query of a blob URL.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignedQuery {
    #[serde(rename = "X-Todo-Expires")]
    expires: i64,
    #[serde(rename = "X-Todo-Type", default, skip_serializing_if = "Option::is_none")]
    content_type: Option<String>,
    #[serde(rename = "X-Todo-Length", default, skip_serializing_if = "Option::is_none")]
    content_length: Option<u64>,
    #[serde(rename = "X-Todo-Disposition", default, skip_serializing_if = "Option::is_none")]
    disposition: Option<String>,
    #[serde(rename = "X-Todo-Signature", default)]
    signature: String,
}

/// Why a blob request was refused: 403 for a URL that does not allow it, 404 for a missing
/// object, 500 when the folder itself fails.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum BlobRefusal {
    #[error("the URL is not signed for this request")]
    BadSignature,
    #[error("the URL has expired")]
    Expired,
    #[error("the upload must have Content-Type {0}")]
    WrongContentType(String),
    #[error("the upload must be exactly {0} bytes")]
    WrongLength(u64),
    #[error("no such object")]
    NotFound,
    #[error("the blob folder failed: {0}")]
    Io(String),
}

/// A GET that passed its checks: the disposition it was signed with.
#[derive(Debug)]
pub struct VerifiedGet {
    pub disposition: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Meta {
    size: u64,
    etag: String,
    content_type: Option<String>,
}

impl LocalBlobs {
    /// Objects under `dir`, URLs under `base_url` (e.g. `http://127.0.0.1:3000`), signed with a
    /// key derived from the token secret.
    pub fn new(dir: PathBuf, base_url: &str, secret: &Secret) -> Self {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.expose()).expect("HMAC takes any key length");
        mac.update(b"todo/local-blob-urls/v1");
        Self { dir, base_url: base_url.trim_end_matches('/').to_owned(), key: mac.finalize().into_bytes().to_vec() }
    }

    fn mac(&self, method: &str, key: &str, query: &SignedQuery) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length");
        let canonical = serde_json::to_vec(&(method, key, query.expires, &query.content_type, query.content_length, &query.disposition))
            .expect("serialisable");
        mac.update(&canonical);
        mac
    }

    fn url(&self, method: &'static str, key: &ObjectKey, mut query: SignedQuery) -> String {
        query.signature = hex(&self.mac(method, key.as_str(), &query).finalize().into_bytes());
        let encoded = serde_urlencoded::to_string(&query).expect("query serialises");
        format!("{}{BLOB_PATH}{}?{encoded}", self.base_url, key.as_str())
    }

    fn path(&self, key: &ObjectKey) -> PathBuf {
        self.dir.join(key.as_str())
    }

    fn verify(&self, method: &str, key: &ObjectKey, raw_query: &str, now: Timestamp) -> Result<SignedQuery, BlobRefusal> {
        let query: SignedQuery = serde_urlencoded::from_str(raw_query).map_err(|_| BlobRefusal::BadSignature)?;
        let signature = todo_domain::auth::hex_decode(&query.signature).ok_or(BlobRefusal::BadSignature)?;
        self.mac(method, key.as_str(), &query).verify_slice(&signature).map_err(|_| BlobRefusal::BadSignature)?;
        if now.unix_seconds() >= query.expires {
            return Err(BlobRefusal::Expired);
        }
        Ok(query)
    }

    /// Checks an upload's URL and headers before any of its body is read: the signature, the
    /// expiry and the content type. The length the body must have.
    pub fn admit_put(&self, key: &ObjectKey, raw_query: &str, content_type: Option<&str>, now: Timestamp) -> Result<u64, BlobRefusal> {
        self.admitted_put(key, raw_query, content_type, now).map(|query| query.content_length.unwrap_or_default())
    }

    fn admitted_put(
        &self,
        key: &ObjectKey,
        raw_query: &str,
        content_type: Option<&str>,
        now: Timestamp,
    ) -> Result<SignedQuery, BlobRefusal> {
        let query = self.verify("PUT", key, raw_query, now)?;
        let expected_type = query.content_type.clone().unwrap_or_default();
        if content_type != Some(expected_type.as_str()) {
            return Err(BlobRefusal::WrongContentType(expected_type));
        }
        Ok(query)
    }

    /// Checks an upload against its URL and stores the bytes (atomically: a temp file renamed
    /// into place, so a reader never sees half an object).
    pub fn put(
        &self,
        key: &ObjectKey,
        raw_query: &str,
        content_type: Option<&str>,
        body: &[u8],
        now: Timestamp,
    ) -> Result<ObjectInfo, BlobRefusal> {
        let query = self.admitted_put(key, raw_query, content_type, now)?;
        let expected_length = query.content_length.unwrap_or_default();
        if body.len() as u64 != expected_length {
            return Err(BlobRefusal::WrongLength(expected_length));
        }
        let info =
            ObjectInfo { size: expected_length, etag: format!("\"{}\"", hex(&Sha256::digest(body))), content_type: query.content_type };
        self.write(key, body, &info).map_err(|error| BlobRefusal::Io(error.to_string()))?;
        Ok(info)
    }

    fn write(&self, key: &ObjectKey, body: &[u8], info: &ObjectInfo) -> std::io::Result<()> {
        let path = self.path(key);
        fs::create_dir_all(path.parent().expect("keys have folders"))?;
        let temp = path.with_extension(format!("partial-{}", ulid::Ulid::new()));
        let mut file = fs::File::create(&temp)?;
        file.write_all(body)?;
        file.sync_all()?;
        let meta = Meta { size: info.size, etag: info.etag.clone(), content_type: info.content_type.clone() };
        fs::write(path.with_extension("meta"), serde_json::to_vec(&meta).expect("meta serialises"))?;
        fs::rename(temp, path)
    }

    /// Checks a download URL and returns the object's bytes and metadata.
    pub fn get(&self, key: &ObjectKey, raw_query: &str, now: Timestamp) -> Result<(Vec<u8>, ObjectInfo, VerifiedGet), BlobRefusal> {
        let query = self.verify("GET", key, raw_query, now)?;
        let bytes = fs::read(self.path(key)).map_err(|_| BlobRefusal::NotFound)?;
        let info = self.info(key).ok_or(BlobRefusal::NotFound)?;
        Ok((bytes, info, VerifiedGet { disposition: query.disposition }))
    }

    fn info(&self, key: &ObjectKey) -> Option<ObjectInfo> {
        let path = self.path(key);
        if !path.exists() {
            return None;
        }
        let meta: Meta = serde_json::from_slice(&fs::read(path.with_extension("meta")).ok()?).ok()?;
        Some(ObjectInfo { size: meta.size, etag: meta.etag, content_type: meta.content_type })
    }
}

#[async_trait]
impl BlobStore for LocalBlobs {
    async fn presign_put(&self, key: &ObjectKey, spec: &UploadSpec, expires_in: Duration, now: Timestamp) -> StoreResult<PresignedRequest> {
        let expires_at = now.after(expires_in);
        let query = SignedQuery {
            expires: expires_at.unix_seconds(),
            content_type: Some(spec.content_type.clone()),
            content_length: Some(spec.content_length),
            disposition: None,
            signature: String::new(),
        };
        Ok(PresignedRequest {
            url: self.url("PUT", key, query),
            method: "PUT",
            headers: vec![
                ("content-type".to_owned(), spec.content_type.clone()),
                ("content-length".to_owned(), spec.content_length.to_string()),
            ],
            expires_at,
        })
    }

    async fn presign_get(
        &self,
        key: &ObjectKey,
        file_name: Option<&str>,
        expires_in: Duration,
        now: Timestamp,
    ) -> StoreResult<PresignedRequest> {
        let expires_at = now.after(expires_in);
        let query = SignedQuery {
            expires: expires_at.unix_seconds(),
            content_type: None,
            content_length: None,
            disposition: file_name.map(content_disposition),
            signature: String::new(),
        };
        Ok(PresignedRequest { url: self.url("GET", key, query), method: "GET", headers: Vec::new(), expires_at })
    }

    async fn head(&self, key: &ObjectKey) -> StoreResult<Option<ObjectInfo>> {
        let (blobs, key) = (self.clone(), key.clone());
        tokio::task::spawn_blocking(move || blobs.info(&key)).await.map_err(StoreError::backend)
    }

    async fn delete(&self, key: &ObjectKey) -> StoreResult<()> {
        let path = self.path(key);
        tokio::task::spawn_blocking(move || {
            for file in [path.with_extension("meta"), path] {
                match fs::remove_file(&file) {
                    Ok(()) => {}
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                    Err(error) => return Err(StoreError::backend(error)),
                }
            }
            Ok(())
        })
        .await
        .map_err(StoreError::backend)?
    }

    /// Nothing to do: the local folder has no expiry rule for an upload to escape; bytes no
    /// record names are removed by `complete_upload` (orphans) and the purge, as on S3.
    async fn keep(&self, _key: &ObjectKey) -> StoreResult<()> {
        Ok(())
    }
}
