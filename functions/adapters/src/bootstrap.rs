//! Builds the `App` once per process (per Lambda cold start, per local server).

use std::path::Path;
use std::sync::Arc;

use todo_domain::App;
use todo_domain::app::Stores;
use todo_domain::auth::Secret;
use todo_domain::clock::SystemClock;

use crate::config::{self, ConfigError, Env};
use crate::dynamodb::DynamoStore;
use crate::embedded::{EmbeddedStore, load_or_create_secret};

/// Which adapter backs the ports: `TODO_STORE=embedded` (default) or `dynamodb`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreChoice {
    /// SQLite in `TODO_DATA_DIR`.
    Embedded,
    /// DynamoDB table `TABLE_NAME` (the SDK honours `AWS_ENDPOINT_URL` for emulators).
    DynamoDb { table: String },
}

impl StoreChoice {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        match env.optional("TODO_STORE").as_deref() {
            None | Some("embedded") => Ok(Self::Embedded),
            Some("dynamodb") => {
                let table = env
                    .optional(config::TABLE_NAME)
                    .ok_or(ConfigError { name: config::TABLE_NAME, problem: "is required when TODO_STORE=dynamodb".to_owned() })?;
                Ok(Self::DynamoDb { table })
            }
            Some(other) => Err(ConfigError { name: "TODO_STORE", problem: format!("must be `embedded` or `dynamodb`, not {other:?}") }),
        }
    }
}

/// An app on the embedded store in `data_dir`. The signing secret is `secret` when given,
/// else the one kept in the data dir (generated on first use), so tokens survive restarts.
pub fn embedded_app(env: &Env<'_>, data_dir: &Path, secret: Option<Secret>) -> anyhow::Result<App> {
    let store = Arc::new(EmbeddedStore::open(data_dir)?);
    let secret = match secret {
        Some(secret) => secret,
        None => load_or_create_secret(data_dir)?,
    };
    let stores = Stores { users: store.clone(), sessions: store.clone(), tasks: store };
    Ok(App::new(stores, Arc::new(SystemClock), config::settings(env, secret)?))
}

/// An app on a DynamoDB table, with clients built from the SDK's default configuration.
pub async fn dynamodb_app(env: &Env<'_>, table: &str, secret: Secret) -> anyhow::Result<App> {
    let store = Arc::new(DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws_config::load_from_env().await), table));
    let stores = Stores { users: store.clone(), sessions: store.clone(), tasks: store };
    Ok(App::new(stores, Arc::new(SystemClock), config::settings(env, secret)?))
}

/// The app as configured by the process environment.
pub async fn from_env() -> anyhow::Result<App> {
    let env = Env::process();
    let secret = config::token_secret(&env)?;
    match StoreChoice::from_env(&env)? {
        StoreChoice::Embedded => embedded_app(&env, &config::data_dir(&env), secret),
        StoreChoice::DynamoDb { table } => {
            // On AWS the secret comes from the template; never generate one there.
            let secret =
                secret.ok_or(ConfigError { name: config::TOKEN_SECRET, problem: "is required when TODO_STORE=dynamodb".to_owned() })?;
            dynamodb_app(&env, &table, secret).await
        }
    }
}
