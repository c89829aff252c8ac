//! The S3 adapter for the blob port: presigned PUT (content type and length bound into the
//! signature) and GET, HEAD, DELETE. Keys are `ObjectKey`s: ids only.
//!
//! The last net for abandoned uploads: every upload URL tags what it uploads
//! `PENDING_UPLOAD_TAG`, the bucket's lifecycle rule (template.yaml, `abandoned-uploads`)
//! expires objects still so tagged after three days, and `keep` removes the tag once the bytes
//! are a file's. Bytes that no record names (an upload landing after its file, task or
//! account went, its event lost) then go by themselves.
//!
//! Requests are signed with `aws-sigv4` (the SDK's own signer) and sent by a hyper client,
//! not by the S3 SDK: four object operations do not need its machinery (its endpoint rules
//! alone are 320 KB of code), and without it an S3-using function's zip is ~0.8 MB smaller
//! (docs/bench/README.md). Signing, the HTTPS client and retries are `aws_http`'s. Tests hold every presigned URL byte for byte to the one the S3
//! SDK produces for the same request, since moto does not check signatures.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignatureLocation, SigningSettings, UriPathNormalizationMode,
};
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::Empty;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use todo_domain::model::Timestamp;
use todo_domain::ports::{BlobStore, ObjectInfo, ObjectKey, PresignedRequest, StoreError, StoreResult, UploadSpec, content_disposition};

use crate::aws_http::{self, Attempt, dns_suffix};
use crate::bootstrap::{AwsEnv, TrustedRoots};

/// The tag (`key=value`, as the `x-amz-tagging` header writes it) an upload URL puts on its
/// object, which the bucket's `abandoned-uploads` lifecycle rule matches.
pub const PENDING_UPLOAD_TAG: (&str, &str) = ("upload", "pending");

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>;

#[derive(Clone, Debug)]
pub struct S3Blobs {
    /// Built at the first HEAD or DELETE: presigning needs no connection, and most
    /// functions never call S3, so a cold start does not pay for TLS set-up it may not use.
    http: Arc<OnceLock<HttpsClient>>,
    roots: TrustedRoots,
    identity: Identity,
    region: String,
    /// Everything before the key: `https://<bucket>.s3.<region>.<partition suffix>/`, or
    /// `<endpoint>/<bucket>/` for path-style addressing.
    prefix: String,
}

impl S3Blobs {
    pub fn new(aws: &AwsEnv, bucket: &str, path_style: bool) -> Self {
        let prefix = bucket_prefix(&aws.region, aws.endpoint.as_deref(), bucket, path_style);
        Self {
            http: Arc::new(OnceLock::new()),
            roots: aws.roots.clone(),
            identity: aws.credentials.clone().into(),
            region: aws.region.clone(),
            prefix,
        }
    }

    fn http(&self) -> &HttpsClient {
        self.http.get_or_init(|| aws_http::https_client(&self.roots))
    }

    /// `request` signed as S3 expects (single percent-encoding, no path normalisation): in
    /// its query for `Presign`, in its headers (with the empty body's hash) for `Headers`.
    fn sign(&self, request: &mut Request<Empty<Bytes>>, at: SystemTime, location: Location) -> StoreResult<()> {
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        let body = match location {
            Location::Presign(expires_in) => {
                settings.signature_location = SignatureLocation::QueryParams;
                settings.expires_in = Some(expires_in);
                SignableBody::UnsignedPayload
            }
            Location::Headers => {
                settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
                SignableBody::Bytes(&[])
            }
        };
        aws_http::sign_request(request, &self.identity, &self.region, "s3", at, settings, body).map_err(StoreError::backend)
    }

    /// A presigned request for `key`; `x-id` names the operation, as the SDK's URLs do.
    fn presign(
        &self,
        method: Method,
        key: &ObjectKey,
        query: &str,
        headers: &[(&str, String)],
        now: Timestamp,
        expires_in: Duration,
    ) -> StoreResult<String> {
        let url = format!("{}{}?{query}", self.prefix, key.as_str());
        let mut request = Request::builder().method(method).uri(url);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let mut request = request.body(Empty::new()).map_err(StoreError::backend)?;
        self.sign(&mut request, start_time(now)?, Location::Presign(expires_in))?;
        Ok(request.uri().to_string())
    }

    /// Sends a signed `method` request for `key` (with `query`, e.g. `tagging`, when not
    /// empty), retrying connection errors, timeouts and 5xx answers; returns the final
    /// answer's status and headers.
    async fn send(&self, method: &Method, key: &ObjectKey, query: &str) -> StoreResult<(StatusCode, http::HeaderMap)> {
        let uri = match query {
            "" => format!("{}{}", self.prefix, key.as_str()),
            query => format!("{}{}?{query}", self.prefix, key.as_str()),
        };
        aws_http::with_retries(&format!("S3 {method} {}", key.as_str()), || async {
            let request = Request::builder().method(method.clone()).uri(&uri).body(Empty::new());
            let mut request = match request {
                Ok(request) => request,
                Err(error) => return Attempt::Fail(error.into()),
            };
            if let Err(error) = self.sign(&mut request, SystemTime::now(), Location::Headers) {
                return Attempt::Fail(error.into());
            }
            let (parts, body) = match aws_http::exchange(self.http(), request).await {
                Ok(answer) => answer,
                Err(error) => return Attempt::Retry(error),
            };
            if parts.status.is_success() || parts.status == StatusCode::NOT_FOUND {
                return Attempt::Done((parts.status, parts.headers));
            }
            // S3 explains a failure in an XML body; keep a bounded prefix for the log.
            let text = String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned();
            let error = anyhow::anyhow!("S3 {method} {} answered {}: {text}", key.as_str(), parts.status);
            if parts.status.is_server_error() { Attempt::Retry(error) } else { Attempt::Fail(error) }
        })
        .await
        .map_err(aws_http::store_error)
    }
}

/// Everything before an object's key: `https://<bucket>.s3.<region>.<partition suffix>/`, or
/// with `endpoint` (an emulator) `<endpoint>/<bucket>/` for path-style addressing.
fn bucket_prefix(region: &str, endpoint: Option<&str>, bucket: &str, path_style: bool) -> String {
    let endpoint = endpoint.map_or_else(|| format!("https://s3.{region}.{}", dns_suffix(region)), str::to_owned);
    let endpoint = endpoint.trim_end_matches('/');
    match endpoint.split_once("://") {
        Some((scheme, host)) if !path_style => format!("{scheme}://{bucket}.{host}/"),
        _ => format!("{endpoint}/{bucket}/"),
    }
}

/// The origin (`scheme://host[:port]`) of the bucket's presigned URLs: what a browser uploads
/// to and downloads from, for the web app's Content-Security-Policy.
pub fn bucket_origin(region: &str, endpoint: Option<&str>, bucket: &str, path_style: bool) -> String {
    let prefix = bucket_prefix(region, endpoint, bucket, path_style);
    let (scheme, rest) = prefix.split_once("://").unwrap_or(("https", &prefix));
    format!("{scheme}://{}", rest.split('/').next().unwrap_or_default())
}

/// An S3 SDK client on `aws`, for tests (feature `s3-sdk`): they make buckets with it, and
/// hold the presigned URLs to its presigner. Checksums only when required, as for a browser
/// upload, where none can be computed when presigning.
#[cfg(feature = "s3-sdk")]
pub fn sdk_client(aws: &AwsEnv, path_style: bool) -> aws_sdk_s3::Client {
    use aws_sdk_s3::config::{BehaviorVersion, Region, RequestChecksumCalculation};
    let mut config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(aws.region.clone()))
        .force_path_style(path_style)
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .credentials_provider(aws.credentials.clone())
        .http_client(aws.http.clone());
    if let Some(endpoint) = &aws.endpoint {
        config = config.endpoint_url(endpoint);
    }
    aws_sdk_s3::Client::from_conf(config.build())
}

/// Where a request's signature goes.
#[derive(Clone, Copy)]
enum Location {
    Presign(Duration),
    Headers,
}

fn start_time(now: Timestamp) -> StoreResult<SystemTime> {
    Ok(SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(now.unix_millis()).map_err(StoreError::backend)?))
}

/// A query value percent-encoded as SigV4 encodes it (unreserved characters kept), so the
/// signed and the sent query agree.
fn query_value(value: &str) -> String {
    const RESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    percent_encoding::utf8_percent_encode(value, RESERVED).to_string()
}

#[async_trait]
impl BlobStore for S3Blobs {
    async fn presign_put(&self, key: &ObjectKey, spec: &UploadSpec, expires_in: Duration, now: Timestamp) -> StoreResult<PresignedRequest> {
        let (tag, value) = PENDING_UPLOAD_TAG;
        let headers = [
            ("content-length", spec.content_length.to_string()),
            ("content-type", spec.content_type.clone()),
            ("x-amz-tagging", format!("{tag}={value}")),
        ];
        let url = self.presign(Method::PUT, key, "x-id=PutObject", &headers, now, expires_in)?;
        let headers = headers.into_iter().map(|(name, value)| (name.to_owned(), value)).collect();
        Ok(PresignedRequest { url, method: "PUT", headers, expires_at: now.after(expires_in) })
    }

    async fn presign_get(
        &self,
        key: &ObjectKey,
        file_name: Option<&str>,
        expires_in: Duration,
        now: Timestamp,
    ) -> StoreResult<PresignedRequest> {
        let query = match file_name {
            Some(name) => format!("x-id=GetObject&response-content-disposition={}", query_value(&content_disposition(name))),
            None => "x-id=GetObject".to_owned(),
        };
        let url = self.presign(Method::GET, key, &query, &[], now, expires_in)?;
        Ok(PresignedRequest { url, method: "GET", headers: Vec::new(), expires_at: now.after(expires_in) })
    }

    async fn head(&self, key: &ObjectKey) -> StoreResult<Option<ObjectInfo>> {
        let (status, headers) = self.send(&Method::HEAD, key, "").await?;
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let header = |name: http::header::HeaderName| headers.get(name).and_then(|value| value.to_str().ok()).map(str::to_owned);
        Ok(Some(ObjectInfo {
            size: header(http::header::CONTENT_LENGTH).and_then(|length| length.parse().ok()).unwrap_or_default(),
            etag: header(http::header::ETAG).unwrap_or_default(),
            content_type: header(http::header::CONTENT_TYPE),
        }))
    }

    async fn delete(&self, key: &ObjectKey) -> StoreResult<()> {
        // S3 answers 204 whether or not the object existed: deletes are idempotent.
        self.send(&Method::DELETE, key, "").await?;
        Ok(())
    }

    /// `DeleteObjectTagging`: the object no longer carries `PENDING_UPLOAD_TAG`. A missing
    /// object is S3's 404 `NoSuchKey`, which is fine: nothing is left to keep. (moto answers
    /// that case with a 500, so the suite cannot show it; `complete_upload` keeps only what
    /// its HEAD just found.)
    async fn keep(&self, key: &ObjectKey) -> StoreResult<()> {
        self.send(&Method::DELETE, key, "tagging").await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Env;

    fn key() -> ObjectKey {
        ObjectKey::parse("users/U1/tasks/T1/files/F1").unwrap()
    }

    fn emulator() -> AwsEnv {
        AwsEnv::emulator("http://127.0.0.1:1")
    }

    fn lambda() -> AwsEnv {
        crate::aws_http::lambda_env()
    }

    fn sdk_presigning(now: Timestamp, expires_in: Duration) -> aws_sdk_s3::presigning::PresigningConfig {
        aws_sdk_s3::presigning::PresigningConfig::builder().start_time(start_time(now).unwrap()).expires_in(expires_in).build().unwrap()
    }

    /// moto does not check signatures, so each presigned URL is held to the S3 SDK's, for
    /// AWS (virtual-hosted, session token) and an emulator (path-style).
    #[tokio::test]
    async fn presigned_urls_are_exactly_the_ones_the_s3_sdk_signs() {
        let now = Timestamp::parse("2027-01-01T00:00:00Z").unwrap();
        let spec = UploadSpec { content_type: "image/png".to_owned(), content_length: 1234 };
        for (aws, path_style) in [(lambda(), false), (emulator(), true)] {
            let (ours, sdk) = (S3Blobs::new(&aws, "todo-files-bucket", path_style), sdk_client(&aws, path_style));
            let put = ours.presign_put(&key(), &spec, Duration::from_secs(300), now).await.unwrap();
            let reference = sdk
                .put_object()
                .bucket("todo-files-bucket")
                .key(key().as_str())
                .content_type("image/png")
                .content_length(1234)
                .tagging("upload=pending")
                .presigned(sdk_presigning(now, Duration::from_secs(300)))
                .await
                .unwrap();
            assert_eq!(put.url, reference.uri());
            for name in [Some("résumé (final) 100%.pdf"), None] {
                let get = ours.presign_get(&key(), name, Duration::from_secs(60), now).await.unwrap();
                let reference = sdk
                    .get_object()
                    .bucket("todo-files-bucket")
                    .key(key().as_str())
                    .set_response_content_disposition(name.map(content_disposition))
                    .presigned(sdk_presigning(now, Duration::from_secs(60)))
                    .await
                    .unwrap();
                assert_eq!(get.url, reference.uri(), "{name:?}");
            }
        }
    }

    #[tokio::test]
    async fn upload_urls_bind_type_and_length_and_expire_as_asked() {
        let now = Timestamp::parse("2027-01-01T00:00:00Z").unwrap();
        let spec = UploadSpec { content_type: "image/png".to_owned(), content_length: 1234 };
        let request = S3Blobs::new(&emulator(), "bucket", true).presign_put(&key(), &spec, Duration::from_secs(300), now).await.unwrap();
        assert_eq!(request.method, "PUT");
        assert!(request.url.starts_with("http://127.0.0.1:1/bucket/users/U1/tasks/T1/files/F1?"), "{}", request.url);
        assert!(request.url.contains("X-Amz-Expires=300"), "{}", request.url);
        assert!(request.url.contains("X-Amz-Date=20270101T000000Z"), "{}", request.url);
        let signed = request.url.split("X-Amz-SignedHeaders=").nth(1).unwrap().split('&').next().unwrap();
        assert_eq!(signed, "content-length%3Bcontent-type%3Bhost%3Bx-amz-tagging");
        assert!(request.headers.contains(&("content-type".to_owned(), "image/png".to_owned())), "{:?}", request.headers);
        assert!(request.headers.contains(&("content-length".to_owned(), "1234".to_owned())), "{:?}", request.headers);
        assert_eq!(request.expires_at, Timestamp::parse("2027-01-01T00:05:00Z").unwrap());
    }

    #[tokio::test]
    async fn on_aws_urls_are_virtual_hosted_and_carry_the_session_token() {
        let now = Timestamp::parse("2027-01-01T00:00:00Z").unwrap();
        let request = S3Blobs::new(&lambda(), "todo-files", false).presign_get(&key(), None, Duration::from_secs(60), now).await.unwrap();
        assert!(request.url.starts_with("https://todo-files.s3.eu-west-1.amazonaws.com/users/U1/tasks/T1/files/F1?"), "{}", request.url);
        assert!(request.url.contains("X-Amz-Security-Token="), "{}", request.url);
    }

    #[test]
    fn host_names_follow_the_region_partition() {
        let vars = [("AWS_REGION", "cn-northwest-1"), ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"), ("AWS_SECRET_ACCESS_KEY", "secret")];
        let china =
            AwsEnv::from_env(&Env::from_fn(move |name| vars.iter().find(|(key, _)| *key == name).map(|(_, value)| (*value).to_owned())))
                .unwrap();
        let blobs = S3Blobs::new(&china, "todo-files", false);
        assert_eq!(blobs.prefix, "https://todo-files.s3.cn-northwest-1.amazonaws.com.cn/");
        assert_eq!(bucket_origin("cn-northwest-1", None, "todo-files", false), "https://todo-files.s3.cn-northwest-1.amazonaws.com.cn");
        assert_eq!(bucket_origin("us-east-1", Some("http://127.0.0.1:5000/"), "b", true), "http://127.0.0.1:5000");
    }

    #[tokio::test]
    async fn download_urls_carry_the_encoded_file_name() {
        let now = Timestamp::parse("2027-01-01T00:00:00Z").unwrap();
        let request =
            S3Blobs::new(&emulator(), "bucket", true).presign_get(&key(), Some("résumé.pdf"), Duration::from_secs(60), now).await.unwrap();
        assert!(request.url.contains("X-Amz-Expires=60"));
        assert!(request.url.contains("response-content-disposition=attachment"), "{}", request.url);
        assert!(request.url.contains("r%25C3%25A9sum%25C3%25A9.pdf"), "{}", request.url);
    }

    #[tokio::test]
    async fn an_unreachable_store_is_unavailable_after_retries_not_a_hang() {
        let blobs = S3Blobs::new(&emulator(), "bucket", true);
        let error = blobs.head(&key()).await.unwrap_err();
        assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
        assert!(error.to_string().contains("failed 3 times"), "{error}");
    }
}
