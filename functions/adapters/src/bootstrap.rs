//! Builds the `App` once per process (per Lambda cold start, per local server).

use std::path::Path;
use std::sync::Arc;

use todo_domain::App;
use todo_domain::app::Stores;
use todo_domain::auth::Secret;
use todo_domain::clock::SystemClock;

use crate::config::{self, Env};
use crate::embedded::{EmbeddedStore, load_or_create_secret};

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

/// The app as configured by the process environment.
pub fn from_env() -> anyhow::Result<App> {
    let env = Env::process();
    let secret = config::token_secret(&env)?;
    embedded_app(&env, &config::data_dir(&env), secret)
}
