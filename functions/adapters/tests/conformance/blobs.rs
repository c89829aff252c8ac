//! The blob port: what both stores must do, and what the local store must refuse (moto
//! does not enforce presigned URLs, so S3's refusals are covered by URL unit tests in
//! `src/s3.rs` instead).

use std::time::Duration;

use todo_domain::model::{TaskId, UserId};
use todo_domain::ports::{ObjectKey, UploadSpec};

use crate::support::{Backend, now};

fn key() -> ObjectKey {
    ObjectKey::for_file(UserId::generate(), TaskId::generate(), &ulid::Ulid::new().to_string())
}

const BYTES: &[u8] = b"%PDF-1.7 not really a PDF, but exact bytes \x00\x01\x02\xff";

pub async fn presigned_put_then_get_round_trips_exact_bytes(backend: Backend) {
    let blobs = &backend.stores.blobs;
    let key = key();
    let spec = UploadSpec { content_type: "application/pdf".to_owned(), content_length: BYTES.len() as u64 };
    let upload = blobs.presign_put(&key, &spec, Duration::from_secs(300), now()).await.unwrap();
    assert_eq!(upload.method, "PUT");
    let (status, _) = backend.execute(&upload, BYTES);
    assert_eq!(status, 200);
    let info = blobs.head(&key).await.unwrap().expect("the object arrived");
    assert_eq!(info.size, BYTES.len() as u64);
    assert!(!info.etag.is_empty());
    let download = blobs.presign_get(&key, Some("report.pdf"), Duration::from_secs(60), now()).await.unwrap();
    let (status, body) = backend.execute(&download, &[]);
    assert_eq!(status, 200);
    assert_eq!(body, BYTES);
}

pub async fn delete_removes_the_object_and_is_idempotent(backend: Backend) {
    let blobs = &backend.stores.blobs;
    let key = key();
    let spec = UploadSpec { content_type: "text/plain".to_owned(), content_length: 5 };
    let upload = blobs.presign_put(&key, &spec, Duration::from_secs(300), now()).await.unwrap();
    assert_eq!(backend.execute(&upload, b"hello").0, 200);
    let download = blobs.presign_get(&key, None, Duration::from_secs(60), now()).await.unwrap();
    blobs.delete(&key).await.unwrap();
    blobs.delete(&key).await.unwrap();
    assert_eq!(blobs.head(&key).await.unwrap(), None);
    assert_eq!(backend.execute(&download, &[]).0, 404, "the download URL stops working");
}

pub async fn head_of_a_missing_object_is_none(backend: Backend) {
    assert_eq!(backend.stores.blobs.head(&key()).await.unwrap(), None);
}

/// The local store enforces what S3 enforces.
pub mod local {
    use super::*;

    async fn upload_url(backend: &Backend, key: &ObjectKey, expires_in: Duration) -> todo_domain::ports::PresignedRequest {
        let spec = UploadSpec { content_type: "image/png".to_owned(), content_length: 4 };
        backend.stores.blobs.presign_put(key, &spec, expires_in, now()).await.unwrap()
    }

    #[tokio::test]
    async fn wrong_length_type_expiry_or_signature_is_refused_and_stores_nothing() {
        let backend = Backend::embedded();
        let key = key();
        let upload = upload_url(&backend, &key, Duration::from_secs(300)).await;
        assert_eq!(backend.execute(&upload, b"12345").0, 403, "too long");
        assert_eq!(backend.execute(&upload, b"123").0, 403, "too short");
        let mut wrong_type = upload.clone();
        wrong_type.headers = vec![("content-type".to_owned(), "text/html".to_owned())];
        assert_eq!(backend.execute(&wrong_type, b"1234").0, 403, "other type");
        let mut tampered = upload.clone();
        tampered.url = tampered.url.replace("X-Todo-Length=4", "X-Todo-Length=5");
        assert_eq!(backend.execute(&tampered, b"12345").0, 403, "edited length");
        let mut other_key = upload.clone();
        other_key.url = other_key.url.replace(key.as_str(), self::key().as_str());
        assert_eq!(backend.execute(&other_key, b"1234").0, 403, "another key");
        let mut as_get = upload.clone();
        as_get.method = "GET";
        assert_eq!(backend.execute(&as_get, &[]).0, 403, "a PUT URL does not download");
        let expired = upload_url(&backend, &key, Duration::from_secs(0)).await;
        assert_eq!(backend.execute(&expired, b"1234").0, 403, "expired");
        assert_eq!(backend.stores.blobs.head(&key).await.unwrap(), None, "nothing stored");
        assert_eq!(backend.execute(&upload, b"1234").0, 200, "the genuine upload still works");
    }

    #[tokio::test]
    async fn an_expired_or_tampered_download_is_refused() {
        let backend = Backend::embedded();
        let key = key();
        let upload = upload_url(&backend, &key, Duration::from_secs(300)).await;
        assert_eq!(backend.execute(&upload, b"1234").0, 200);
        let expired = backend.stores.blobs.presign_get(&key, None, Duration::from_secs(0), now()).await.unwrap();
        assert_eq!(backend.execute(&expired, &[]).0, 403);
        let mut tampered = backend.stores.blobs.presign_get(&key, None, Duration::from_secs(60), now()).await.unwrap();
        tampered.url = tampered.url.replace("X-Todo-Signature=", "X-Todo-Signature=00");
        assert_eq!(backend.execute(&tampered, &[]).0, 403);
    }
}
