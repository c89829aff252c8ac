//! The S3 adapter for the blob port: presigned PUT (content type and length bound into the
//! signature) and GET, HEAD, DELETE. Keys are `ObjectKey`s: ids only.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::operation::head_object::HeadObjectError;
use aws_sdk_s3::presigning::PresigningConfig;
use todo_domain::model::Timestamp;
use todo_domain::ports::{BlobStore, ObjectInfo, ObjectKey, PresignedRequest, StoreError, StoreResult, UploadSpec, content_disposition};

#[derive(Clone, Debug)]
pub struct S3Blobs {
    client: Client,
    bucket: String,
}

impl S3Blobs {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self { client, bucket: bucket.into() }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }
}

fn presigning(now: Timestamp, expires_in: Duration) -> StoreResult<PresigningConfig> {
    let start = SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(now.unix_millis()).map_err(StoreError::backend)?);
    PresigningConfig::builder().start_time(start).expires_in(expires_in).build().map_err(StoreError::backend)
}

fn backend(error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::backend(anyhow::anyhow!("{}", aws_sdk_s3::error::DisplayErrorContext(error)))
}

#[async_trait]
impl BlobStore for S3Blobs {
    async fn presign_put(&self, key: &ObjectKey, spec: &UploadSpec, expires_in: Duration, now: Timestamp) -> StoreResult<PresignedRequest> {
        let length = i64::try_from(spec.content_length).map_err(StoreError::backend)?;
        let presigned = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_type(&spec.content_type)
            .content_length(length)
            .presigned(presigning(now, expires_in)?)
            .await
            .map_err(backend)?;
        let headers = presigned
            .headers()
            .filter(|(name, _)| !name.eq_ignore_ascii_case("host"))
            .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()))
            .collect();
        Ok(PresignedRequest { url: presigned.uri().to_owned(), method: "PUT", headers, expires_at: now.after(expires_in) })
    }

    async fn presign_get(
        &self,
        key: &ObjectKey,
        file_name: Option<&str>,
        expires_in: Duration,
        now: Timestamp,
    ) -> StoreResult<PresignedRequest> {
        let presigned = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .set_response_content_disposition(file_name.map(content_disposition))
            .presigned(presigning(now, expires_in)?)
            .await
            .map_err(backend)?;
        Ok(PresignedRequest { url: presigned.uri().to_owned(), method: "GET", headers: Vec::new(), expires_at: now.after(expires_in) })
    }

    async fn head(&self, key: &ObjectKey) -> StoreResult<Option<ObjectInfo>> {
        match self.client.head_object().bucket(&self.bucket).key(key.as_str()).send().await {
            Ok(output) => Ok(Some(ObjectInfo {
                size: output.content_length.and_then(|length| u64::try_from(length).ok()).unwrap_or_default(),
                etag: output.e_tag.unwrap_or_default(),
                content_type: output.content_type,
            })),
            Err(error) => match error.into_service_error() {
                HeadObjectError::NotFound(_) => Ok(None),
                other => Err(backend(other)),
            },
        }
    }

    async fn delete(&self, key: &ObjectKey) -> StoreResult<()> {
        self.client.delete_object().bucket(&self.bucket).key(key.as_str()).send().await.map_err(backend)?;
        Ok(())
    }
}

/// A client from explicit settings (see `bootstrap::AwsEnv`).
pub fn client(aws: &crate::bootstrap::AwsEnv, path_style: bool) -> Client {
    use aws_sdk_s3::config::{BehaviorVersion, Region};
    let mut config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(aws.region.clone()))
        .force_path_style(path_style)
        .credentials_provider(aws.credentials.clone());
    if let Some(endpoint) = &aws.endpoint {
        config = config.endpoint_url(endpoint);
    }
    Client::from_conf(config.build())
}

/// A client for a local emulator (moto's server): path-style addressing, fixed region,
/// dummy credentials.
pub fn emulator_client(endpoint: &str) -> Client {
    client(&crate::bootstrap::AwsEnv::emulator(endpoint), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blobs() -> S3Blobs {
        S3Blobs::new(emulator_client("http://127.0.0.1:1"), "bucket")
    }

    fn key() -> ObjectKey {
        ObjectKey::parse("users/U1/tasks/T1/files/F1").unwrap()
    }

    /// moto does not enforce presigned URLs, so the binding is checked on the URL itself.
    #[tokio::test]
    async fn upload_urls_bind_type_and_length_and_expire_as_asked() {
        let now = Timestamp::parse("2027-01-01T00:00:00Z").unwrap();
        let spec = UploadSpec { content_type: "image/png".to_owned(), content_length: 1234 };
        let request = blobs().presign_put(&key(), &spec, Duration::from_secs(300), now).await.unwrap();
        assert_eq!(request.method, "PUT");
        assert!(request.url.contains("/bucket/users/U1/tasks/T1/files/F1?"), "{}", request.url);
        assert!(request.url.contains("X-Amz-Expires=300"), "{}", request.url);
        assert!(request.url.contains("X-Amz-Date=20270101T000000Z"), "{}", request.url);
        let signed = request.url.split("X-Amz-SignedHeaders=").nth(1).unwrap().split('&').next().unwrap();
        assert_eq!(signed, "content-length%3Bcontent-type%3Bhost");
        assert!(request.headers.contains(&("content-type".to_owned(), "image/png".to_owned())), "{:?}", request.headers);
        assert!(request.headers.contains(&("content-length".to_owned(), "1234".to_owned())), "{:?}", request.headers);
        assert_eq!(request.expires_at, Timestamp::parse("2027-01-01T00:05:00Z").unwrap());
    }

    #[tokio::test]
    async fn download_urls_carry_the_encoded_file_name() {
        let now = Timestamp::parse("2027-01-01T00:00:00Z").unwrap();
        let request = blobs().presign_get(&key(), Some("résumé.pdf"), Duration::from_secs(60), now).await.unwrap();
        assert!(request.url.contains("X-Amz-Expires=60"));
        assert!(request.url.contains("response-content-disposition=attachment"), "{}", request.url);
        assert!(request.url.contains("r%25C3%25A9sum%25C3%25A9.pdf"), "{}", request.url);
    }
}
