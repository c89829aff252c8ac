//! Typed configuration, parsed once from the environment. A missing or malformed variable
//! fails start-up with a message naming it.

use std::path::PathBuf;

use todo_domain::Settings;
use todo_domain::app::FileLimits;
use todo_domain::auth::SigningKeys;

#[derive(Debug, thiserror::Error)]
#[error("configuration variable {name}: {problem}")]
pub struct ConfigError {
    pub name: &'static str,
    pub problem: String,
}

/// Reads variables through a lookup function, so tests need not touch the process
/// environment.
pub struct Env<'a> {
    lookup: Box<Lookup<'a>>,
}

type Lookup<'a> = dyn Fn(&str) -> Option<String> + 'a;

impl std::fmt::Debug for Env<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Env")
    }
}

impl<'a> Env<'a> {
    pub fn process() -> Self {
        Self { lookup: Box::new(|name| std::env::var(name).ok()) }
    }

    pub fn from_fn(lookup: impl Fn(&str) -> Option<String> + 'a) -> Self {
        Self { lookup: Box::new(lookup) }
    }

    pub fn optional(&self, name: &'static str) -> Option<String> {
        (self.lookup)(name).filter(|value| !value.is_empty())
    }

    pub fn parsed<T: std::str::FromStr>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        match self.optional(name) {
            None => Ok(default),
            Some(raw) => raw.parse().map_err(|e| ConfigError { name, problem: format!("cannot parse {raw:?}: {e}") }),
        }
    }

    fn seconds(&self, name: &'static str, default: i64) -> Result<i64, ConfigError> {
        let value = self.parsed(name, default)?;
        if value <= 0 {
            return Err(ConfigError { name, problem: "must be a positive number of seconds".to_owned() });
        }
        Ok(value)
    }
}

/// `TODO_TOKEN_SECRET`: the signing keys, as a bare secret of at least 32 bytes (one key,
/// id `k0`) or a key set naming the current key and, during a rotation, the previous one
/// (`todo_domain::auth::SigningKeys::parse`).
pub const TOKEN_SECRET: &str = "TODO_TOKEN_SECRET";
/// `TODO_TOKEN_SECRET_ID`: the Secrets Manager secret (name or ARN) holding what
/// `TODO_TOKEN_SECRET` would, read at cold start; how functions get their keys on AWS.
pub const TOKEN_SECRET_ID: &str = "TODO_TOKEN_SECRET_ID";
/// `TABLE_NAME`: the DynamoDB table (with `TODO_STORE=dynamodb`).
pub const TABLE_NAME: &str = "TABLE_NAME";
/// `BUCKET_NAME`: the S3 bucket for file contents (with `TODO_STORE=dynamodb`).
pub const BUCKET_NAME: &str = "BUCKET_NAME";
/// Where the local server listens unless `TODO_ADDR` says otherwise.
pub const DEFAULT_ADDR: &str = "127.0.0.1:3000";
/// `TODO_DATA_DIR`: where the embedded store keeps its files.
pub const DATA_DIR: &str = "TODO_DATA_DIR";
pub const DEFAULT_DATA_DIR: &str = ".todo-data";

pub fn token_keys(env: &Env<'_>) -> Result<Option<SigningKeys>, ConfigError> {
    env.optional(TOKEN_SECRET)
        .map(|raw| SigningKeys::parse(&raw).map_err(|problem| ConfigError { name: TOKEN_SECRET, problem }))
        .transpose()
}

pub fn data_dir(env: &Env<'_>) -> PathBuf {
    PathBuf::from(env.optional(DATA_DIR).unwrap_or_else(|| DEFAULT_DATA_DIR.to_owned()))
}

/// The settings shared by every deployment, given the signing keys.
pub fn settings(env: &Env<'_>, token_keys: SigningKeys) -> Result<Settings, ConfigError> {
    Ok(Settings {
        token_keys,
        token_issuer: env.optional("TODO_TOKEN_ISSUER").unwrap_or_else(|| Settings::DEFAULT_ISSUER.to_owned()),
        token_audience: env.optional("TODO_TOKEN_AUDIENCE").unwrap_or_else(|| Settings::DEFAULT_AUDIENCE.to_owned()),
        access_token_seconds: env.seconds("TODO_ACCESS_TOKEN_SECONDS", Settings::DEFAULT_ACCESS_TOKEN_SECONDS)?,
        refresh_token_seconds: env.seconds("TODO_REFRESH_TOKEN_SECONDS", Settings::DEFAULT_REFRESH_TOKEN_SECONDS)?,
        idempotency_seconds: env.seconds("TODO_IDEMPOTENCY_SECONDS", Settings::DEFAULT_IDEMPOTENCY_SECONDS)?,
        notification_seconds: env.seconds("TODO_NOTIFICATION_SECONDS", Settings::DEFAULT_NOTIFICATION_SECONDS)?,
        files: file_limits(env)?,
        reminders: reminder_fairness(env)?,
    })
}

/// `TODO_ALARM_SHARDS`: how many partitions of the `schedule` index due alarms and uploads
/// are spread over, each read by its own reminders worker (1 to
/// `dynamodb::MAX_SHARDS`; 16 unless set). Raise it, never lower it (docs/reminders.md).
pub fn alarm_shards(env: &Env<'_>) -> Result<u32, ConfigError> {
    let name = "TODO_ALARM_SHARDS";
    let shards = env.parsed(name, crate::dynamodb::DEFAULT_SHARDS)?;
    if !(1..=crate::dynamodb::MAX_SHARDS).contains(&shards) {
        return Err(ConfigError { name, problem: format!("must be from 1 to {}", crate::dynamodb::MAX_SHARDS) });
    }
    Ok(shards)
}

/// How reminders workers share their passes: `TODO_REMINDER_CONCURRENCY` (alarms a worker
/// sends at once, 1-256) and `TODO_REMINDER_PER_USER` (places one person's alarms take in a
/// pass of 1,000); docs/reminders.md.
pub fn reminder_fairness(env: &Env<'_>) -> Result<todo_domain::usecases::reminders::Fairness, ConfigError> {
    let defaults = todo_domain::usecases::reminders::Fairness::default();
    let within = |name: &'static str, default: u64, max: u64| -> Result<u64, ConfigError> {
        let value = env.parsed(name, default)?;
        if value == 0 || value > max {
            return Err(ConfigError { name, problem: format!("must be from 1 to {max}") });
        }
        Ok(value)
    };
    let concurrency = within("TODO_REMINDER_CONCURRENCY", defaults.concurrency as u64, 256)?;
    let per_user = within("TODO_REMINDER_PER_USER", u64::from(defaults.per_user_per_pass), u64::from(defaults.per_pass))?;
    Ok(todo_domain::usecases::reminders::Fairness {
        concurrency: usize::try_from(concurrency).unwrap_or(defaults.concurrency),
        per_user_per_pass: u32::try_from(per_user).unwrap_or(defaults.per_user_per_pass),
        ..defaults
    })
}

/// Attachment limits: `TODO_MAX_FILE_BYTES`, `TODO_MAX_FILES_PER_TASK`,
/// `TODO_UPLOAD_URL_SECONDS`, `TODO_STALE_UPLOAD_GRACE_SECONDS`, `TODO_DOWNLOAD_URL_SECONDS`, `TODO_DENIED_CONTENT_TYPES`
/// (comma-separated; replaces the default list).
pub fn file_limits(env: &Env<'_>) -> Result<FileLimits, ConfigError> {
    let defaults = FileLimits::default();
    let positive = |name: &'static str, default: u64| -> Result<u64, ConfigError> {
        let value = env.parsed(name, default)?;
        if value == 0 {
            return Err(ConfigError { name, problem: "must be positive".to_owned() });
        }
        Ok(value)
    };
    let max_files_per_task = u32::try_from(positive("TODO_MAX_FILES_PER_TASK", u64::from(defaults.max_files_per_task))?)
        .map_err(|_| ConfigError { name: "TODO_MAX_FILES_PER_TASK", problem: "is too large".to_owned() })?;
    Ok(FileLimits {
        max_file_bytes: positive("TODO_MAX_FILE_BYTES", defaults.max_file_bytes)?,
        max_files_per_task,
        // S3 presigned URLs live at most 7 days.
        upload_url_seconds: positive("TODO_UPLOAD_URL_SECONDS", defaults.upload_url_seconds)?.min(604_800),
        stale_upload_grace_seconds: positive("TODO_STALE_UPLOAD_GRACE_SECONDS", defaults.stale_upload_grace_seconds)?.min(365 * 86_400),
        download_url_seconds: positive("TODO_DOWNLOAD_URL_SECONDS", defaults.download_url_seconds)?.min(604_800),
        denied_types: env.optional("TODO_DENIED_CONTENT_TYPES").map_or(defaults.denied_types, |list| {
            list.split(',').map(|kind| kind.trim().to_ascii_lowercase()).filter(|kind| !kind.is_empty()).collect()
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use todo_domain::auth::Secret;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> Env<'static> {
        Env::from_fn(move |name| pairs.iter().find(|(key, _)| *key == name).map(|(_, value)| (*value).to_owned()))
    }

    #[test]
    fn malformed_variables_are_named() {
        let keys = SigningKeys::single(Secret::new(vec![0; 32]).unwrap());
        let error = settings(&env(&[("TODO_ACCESS_TOKEN_SECONDS", "soon")]), keys.clone()).unwrap_err();
        assert_eq!(error.name, "TODO_ACCESS_TOKEN_SECONDS");
        let error = settings(&env(&[("TODO_REFRESH_TOKEN_SECONDS", "-5")]), keys).unwrap_err();
        assert_eq!(error.name, "TODO_REFRESH_TOKEN_SECONDS");
        let error = token_keys(&env(&[(TOKEN_SECRET, "short")])).unwrap_err();
        assert_eq!(error.name, TOKEN_SECRET);
        let error = token_keys(&env(&[(TOKEN_SECRET, r#"{"current": {"kid": "k1"}}"#)])).unwrap_err();
        assert!(error.name == TOKEN_SECRET && error.problem.contains("key set"), "{error:?}");
        let rotating = format!(
            r#"{{"current": {{"kid": "k1", "key": "{}"}}, "previous": {{"kid": "k0", "key": "{}"}}}}"#,
            "n".repeat(40),
            "o".repeat(40)
        );
        let keys = token_keys(&Env::from_fn(move |name| (name == TOKEN_SECRET).then(|| rotating.clone()))).unwrap().unwrap();
        assert_eq!(keys.all().map(|key| key.id.as_str().to_owned()).collect::<Vec<_>>(), ["k1", "k0"]);
    }

    #[test]
    fn the_shard_count_is_bounded() {
        assert_eq!(alarm_shards(&env(&[])).unwrap(), crate::dynamodb::DEFAULT_SHARDS);
        assert_eq!(alarm_shards(&env(&[("TODO_ALARM_SHARDS", "64")])).unwrap(), 64);
        for bad in ["0", "129", "-1", "sixteen"] {
            let pairs: &'static [(&'static str, &'static str)] = Box::leak(Box::new([("TODO_ALARM_SHARDS", bad)]));
            assert_eq!(alarm_shards(&env(pairs)).unwrap_err().name, "TODO_ALARM_SHARDS", "{bad}");
        }
    }

    #[test]
    fn defaults_apply_when_unset() {
        let settings = settings(&env(&[]), SigningKeys::single(Secret::new(vec![0; 32]).unwrap())).unwrap();
        assert_eq!(settings.access_token_seconds, Settings::DEFAULT_ACCESS_TOKEN_SECONDS);
        assert_eq!(data_dir(&env(&[])), PathBuf::from(DEFAULT_DATA_DIR));
    }
}
