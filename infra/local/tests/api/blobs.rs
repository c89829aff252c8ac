//! The local server's blob URLs: presigned by the app, answered by the server itself.

use std::time::Duration;

use http::{Method, StatusCode};
use todo_domain::model::{TaskId, Timestamp, UserId};
use todo_domain::ports::{ObjectKey, UploadSpec};

use crate::support::{BASE_URL, TestApp};

fn path_of(url: &str) -> &str {
    url.strip_prefix(BASE_URL).expect("a URL of this server")
}

#[tokio::test]
async fn presigned_urls_upload_and_download_through_the_local_server() {
    let app = TestApp::spawn();
    let key = ObjectKey::for_file(UserId::generate(), TaskId::generate(), "01ARZ3NDEKTSV4RRFFQ69G5FAV");
    let now = Timestamp::from_datetime(chrono::Utc::now());
    let spec = UploadSpec { content_type: "text/plain".to_owned(), content_length: 11 };
    let upload = app.app.stores.blobs.presign_put(&key, &spec, Duration::from_secs(60), now).await.unwrap();

    let wrong_type =
        TestApp::request(Method::PUT, path_of(&upload.url), None, &[("content-type", "text/html")], Some(b"hello world".to_vec()));
    app.send(wrong_type).await.assert_problem(StatusCode::FORBIDDEN, None);
    let wrong_length =
        TestApp::request(Method::PUT, path_of(&upload.url), None, &[("content-type", "text/plain")], Some(b"hello".to_vec()));
    app.send(wrong_length).await.assert_problem(StatusCode::FORBIDDEN, None);
    let put = TestApp::request(Method::PUT, path_of(&upload.url), None, &[("content-type", "text/plain")], Some(b"hello world".to_vec()));
    let reply = app.send(put).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.header("etag").is_some());
    // No file's metadata names this key, so the arrival removed it as an orphan.
    assert!(app.app.stores.blobs.head(&key).await.unwrap().is_none());
    // Placed directly (as a completed upload would leave it), it downloads through the server.
    let (_, query) = upload.url.split_once('?').unwrap();
    app.blobs.put(&key, query, Some("text/plain"), b"hello world", now).unwrap();

    let download = app.app.stores.blobs.presign_get(&key, Some("notes \"v2\".txt"), Duration::from_secs(60), now).await.unwrap();
    let reply = app.send(TestApp::request(Method::GET, path_of(&download.url), None, &[], None)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, serde_json::Value::String("hello world".to_owned()));
    assert_eq!(reply.header("content-type"), Some("text/plain"));
    assert_eq!(reply.header("content-disposition"), Some("attachment; filename=\"notes _v2_.txt\"; filename*=UTF-8''notes%20%22v2%22.txt"));
    let unsigned = app.send(TestApp::request(Method::GET, &format!("/blobs/{}", key.as_str()), None, &[], None)).await;
    unsigned.assert_problem(StatusCode::FORBIDDEN, None);
}

/// A forged or expired upload URL is refused before any of the body is read (the body here
/// fails if read), and a download is never sniffed into another type.
#[tokio::test]
async fn uploads_are_checked_before_their_body_is_read_and_downloads_are_not_sniffed() {
    let app = TestApp::spawn();
    let key = ObjectKey::for_file(UserId::generate(), TaskId::generate(), "01ARZ3NDEKTSV4RRFFQ69G5FAV");
    let now = Timestamp::from_datetime(chrono::Utc::now());
    let spec = UploadSpec { content_type: "text/plain".to_owned(), content_length: 11 };
    let upload = app.app.stores.blobs.presign_put(&key, &spec, Duration::from_secs(60), now).await.unwrap();
    let forged = path_of(&upload.url).replace("X-Todo-Signature=", "X-Todo-Signature=00");
    assert_ne!(forged, path_of(&upload.url));
    let unreadable = || {
        let failing = futures::stream::once(async { Err::<bytes::Bytes, _>(std::io::Error::other("the body was read")) });
        axum::body::Body::from_stream(failing)
    };
    let request = http::Request::put(forged).header("content-type", "text/plain").body(unreadable()).unwrap();
    let refused = app.send(request).await;
    refused.assert_problem(StatusCode::FORBIDDEN, None);
    let reason = refused.body["detail"].as_str().unwrap();
    assert!(reason.contains("not signed"), "refused for its signature, before the body was read: {reason}");
    let too_long =
        http::Request::put(path_of(&upload.url)).header("content-type", "text/plain").body(axum::body::Body::from("x".repeat(12))).unwrap();
    app.send(too_long).await.assert_problem(StatusCode::FORBIDDEN, None);

    let (_, query) = upload.url.split_once('?').unwrap();
    app.blobs.put(&key, query, Some("text/plain"), b"hello world", now).unwrap();
    let download = app.app.stores.blobs.presign_get(&key, None, Duration::from_secs(60), now).await.unwrap();
    let reply = app.send(TestApp::request(Method::GET, path_of(&download.url), None, &[], None)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
}
