//! Builds the `App` once per process (per Lambda cold start, per local server).

use std::sync::Arc;

use todo_domain::App;
use todo_domain::app::Stores;
use todo_domain::auth::Secret;
use todo_domain::clock::SystemClock;

use crate::config::{self, ConfigError, Env};
use crate::dynamodb::DynamoStore;
use crate::s3::S3Blobs;

/// Which adapters back the ports: `TODO_STORE=embedded` (default) or `dynamodb` (with S3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreChoice {
    /// SQLite and a blob folder in `TODO_DATA_DIR`.
    Embedded,
    /// DynamoDB table `TABLE_NAME` and S3 bucket `BUCKET_NAME` (the SDK honours
    /// `AWS_ENDPOINT_URL` for emulators; `TODO_S3_PATH_STYLE=true` for ones that need it).
    Aws { table: String, bucket: String, path_style: bool },
}

impl StoreChoice {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let required =
            |name: &'static str| env.optional(name).ok_or(ConfigError { name, problem: "is required when TODO_STORE=dynamodb".to_owned() });
        match env.optional("TODO_STORE").as_deref() {
            None | Some("embedded") => Ok(Self::Embedded),
            Some("dynamodb") => Ok(Self::Aws {
                table: required(config::TABLE_NAME)?,
                bucket: required(config::BUCKET_NAME)?,
                path_style: env.parsed("TODO_S3_PATH_STYLE", false)?,
            }),
            Some(other) => Err(ConfigError { name: "TODO_STORE", problem: format!("must be `embedded` or `dynamodb`, not {other:?}") }),
        }
    }
}

/// The app on the embedded store, and the blob folder the local server answers for.
#[cfg(feature = "embedded")]
#[derive(Debug, Clone)]
pub struct EmbeddedApp {
    pub app: App,
    pub blobs: crate::embedded::LocalBlobs,
}

/// An app on the embedded store in `data_dir`, with blob URLs under `base_url`. The signing
/// secret is `secret` when given, else the one kept in the data dir (generated on first
/// use), so tokens survive restarts.
#[cfg(feature = "embedded")]
pub fn embedded_app(env: &Env<'_>, data_dir: &std::path::Path, secret: Option<Secret>, base_url: &str) -> anyhow::Result<EmbeddedApp> {
    use crate::embedded::{EmbeddedStore, LocalBlobs, load_or_create_secret};
    let store = Arc::new(EmbeddedStore::open(data_dir)?);
    let secret = match secret {
        Some(secret) => secret,
        None => load_or_create_secret(data_dir)?,
    };
    let blobs = LocalBlobs::new(data_dir.join("blobs"), base_url, &secret);
    let stores = Stores::from_one(&store, Arc::new(blobs.clone()));
    Ok(EmbeddedApp { app: App::new(stores, Arc::new(SystemClock), config::settings(env, secret)?), blobs })
}

/// An app on DynamoDB and S3, clients built once from the SDK's default configuration
/// (no network until the first request).
pub async fn aws_app(env: &Env<'_>, table: &str, bucket: &str, path_style: bool, secret: Secret) -> anyhow::Result<App> {
    let sdk = aws_config::load_from_env().await;
    let store = Arc::new(DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), table));
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(path_style).build());
    let stores = Stores::from_one(&store, Arc::new(S3Blobs::new(s3, bucket)));
    Ok(App::new(stores, Arc::new(SystemClock), config::settings(env, secret)?))
}

/// The app as configured by the process environment (Lambda functions).
pub async fn from_env() -> anyhow::Result<App> {
    let env = Env::process();
    let secret = config::token_secret(&env)?;
    match StoreChoice::from_env(&env)? {
        #[cfg(feature = "embedded")]
        StoreChoice::Embedded => {
            let base_url = env.optional("TODO_PUBLIC_URL").unwrap_or_else(|| format!("http://{}", crate::config::DEFAULT_ADDR));
            Ok(embedded_app(&env, &config::data_dir(&env), secret, &base_url)?.app)
        }
        #[cfg(not(feature = "embedded"))]
        StoreChoice::Embedded => Err(ConfigError {
            name: "TODO_STORE",
            problem: "this build has no embedded store (Lambda binaries run on DynamoDB): set TODO_STORE=dynamodb".to_owned(),
        }
        .into()),
        StoreChoice::Aws { table, bucket, path_style } => {
            // On AWS the secret comes from the template; never generate one there.
            let secret =
                secret.ok_or(ConfigError { name: config::TOKEN_SECRET, problem: "is required when TODO_STORE=dynamodb".to_owned() })?;
            aws_app(&env, &table, &bucket, path_style, secret).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> Env<'static> {
        Env::from_fn(move |name| pairs.iter().find(|(key, _)| *key == name).map(|(_, value)| (*value).to_owned()))
    }

    #[test]
    fn the_store_is_chosen_by_configuration_and_missing_variables_are_named() {
        assert_eq!(StoreChoice::from_env(&env(&[])).unwrap(), StoreChoice::Embedded);
        let aws = StoreChoice::from_env(&env(&[("TODO_STORE", "dynamodb"), ("TABLE_NAME", "t"), ("BUCKET_NAME", "b")])).unwrap();
        assert_eq!(aws, StoreChoice::Aws { table: "t".to_owned(), bucket: "b".to_owned(), path_style: false });
        assert_eq!(StoreChoice::from_env(&env(&[("TODO_STORE", "dynamodb"), ("BUCKET_NAME", "b")])).unwrap_err().name, "TABLE_NAME");
        assert_eq!(StoreChoice::from_env(&env(&[("TODO_STORE", "dynamodb"), ("TABLE_NAME", "t")])).unwrap_err().name, "BUCKET_NAME");
        assert_eq!(StoreChoice::from_env(&env(&[("TODO_STORE", "postgres")])).unwrap_err().name, "TODO_STORE");
        let bad_flag = [("TODO_STORE", "dynamodb"), ("TABLE_NAME", "t"), ("BUCKET_NAME", "b"), ("TODO_S3_PATH_STYLE", "maybe")];
        let bad_flag: &'static [(&str, &str)] = Box::leak(Box::new(bad_flag));
        assert_eq!(StoreChoice::from_env(&env(bad_flag)).unwrap_err().name, "TODO_S3_PATH_STYLE");
    }
}
