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

/// What the AWS clients need, read from the environment Lambda (and `sam local invoke`)
/// sets: region, the role's credentials, and optionally an endpoint (`AWS_ENDPOINT_URL`, for
/// emulators). Read directly rather than through `aws-config`'s provider chains: those probe
/// profile files and instance metadata at start-up and link STS/SSO clients, none of which
/// a Lambda function uses (measured in docs/bench/README.md).
#[derive(Clone, Debug)]
pub struct AwsEnv {
    pub region: String,
    pub credentials: aws_sdk_dynamodb::config::Credentials,
    pub endpoint: Option<String>,
}

impl AwsEnv {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let required =
            |name: &'static str| env.optional(name).ok_or(ConfigError { name, problem: "is required when TODO_STORE=dynamodb".to_owned() });
        let region =
            env.optional("AWS_REGION").or_else(|| env.optional("AWS_DEFAULT_REGION")).map_or_else(|| required("AWS_REGION"), Ok)?;
        let credentials = aws_sdk_dynamodb::config::Credentials::new(
            required("AWS_ACCESS_KEY_ID")?,
            required("AWS_SECRET_ACCESS_KEY")?,
            env.optional("AWS_SESSION_TOKEN"),
            None,
            "environment",
        );
        Ok(Self { region, credentials, endpoint: env.optional("AWS_ENDPOINT_URL") })
    }

    /// A local emulator at `endpoint`: fixed region, dummy credentials.
    pub fn emulator(endpoint: &str) -> Self {
        Self {
            region: "us-east-1".to_owned(),
            credentials: aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "emulator"),
            endpoint: Some(endpoint.to_owned()),
        }
    }
}

/// An app on DynamoDB and S3, clients built once (no network until the first request).
pub fn aws_app(env: &Env<'_>, table: &str, bucket: &str, path_style: bool, secret: Secret) -> anyhow::Result<App> {
    let aws = AwsEnv::from_env(env)?;
    let store = Arc::new(DynamoStore::new(crate::dynamodb::client(&aws, None), table));
    let stores = Stores::from_one(&store, Arc::new(S3Blobs::new(crate::s3::client(&aws, path_style), bucket)));
    Ok(App::new(stores, Arc::new(SystemClock), config::settings(env, secret)?))
}

/// The app as configured by the process environment (Lambda functions).
pub fn from_env() -> anyhow::Result<App> {
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
            aws_app(&env, &table, &bucket, path_style, secret)
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

    #[test]
    fn aws_settings_come_from_the_lambda_environment_and_missing_ones_are_named() {
        let lambda = [
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_SESSION_TOKEN", "token"),
        ];
        let aws = AwsEnv::from_env(&env(Box::leak(Box::new(lambda)))).unwrap();
        assert_eq!((aws.region.as_str(), aws.endpoint), ("eu-west-1", None));
        assert_eq!(aws.credentials.session_token(), Some("token"));
        let no_region: &'static [(&str, &str)] = &[("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "b")];
        assert_eq!(AwsEnv::from_env(&env(no_region)).unwrap_err().name, "AWS_REGION");
        let no_secret: &'static [(&str, &str)] = &[("AWS_DEFAULT_REGION", "us-east-1"), ("AWS_ACCESS_KEY_ID", "a")];
        assert_eq!(AwsEnv::from_env(&env(no_secret)).unwrap_err().name, "AWS_SECRET_ACCESS_KEY");
        let emulator: &'static [(&str, &str)] = &[
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "a"),
            ("AWS_SECRET_ACCESS_KEY", "b"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
        ];
        assert_eq!(AwsEnv::from_env(&env(emulator)).unwrap().endpoint.as_deref(), Some("http://127.0.0.1:5000"));
    }
}
