//! Builds the `App` once per process (per Lambda cold start, per local server).

use std::sync::Arc;

use aws_smithy_runtime_api::client::http::SharedHttpClient;

use todo_domain::App;
use todo_domain::app::Stores;
use todo_domain::auth::SigningKeys;
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
    /// The store under `app`, for what the local server does in place of AWS's table stream.
    pub store: Arc<crate::embedded::EmbeddedStore>,
}

/// An app on the embedded store in `data_dir`, with blob URLs under `base_url`. The signing
/// secret is `secret` when given, else the one kept in the data dir (generated on first
/// use), so tokens survive restarts.
#[cfg(feature = "embedded")]
pub fn embedded_app(env: &Env<'_>, data_dir: &std::path::Path, keys: Option<SigningKeys>, base_url: &str) -> anyhow::Result<EmbeddedApp> {
    use crate::embedded::{EmbeddedStore, LocalBlobs, load_or_create_secret};
    let store = Arc::new(EmbeddedStore::open(data_dir)?);
    let keys = match keys {
        Some(keys) => keys,
        None => SigningKeys::single(load_or_create_secret(data_dir)?),
    };
    let blobs = LocalBlobs::new(data_dir.join(crate::embedded::BLOB_DIR), base_url, &keys.current().secret);
    let stores = Stores::from_one(&store, Arc::new(blobs.clone()));
    Ok(EmbeddedApp { app: App::new(stores, Arc::new(SystemClock), config::settings(env, keys)?), blobs, store })
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
    pub roots: TrustedRoots,
    /// One HTTPS client (and connection pool) for every SDK client of the process.
    pub http: SharedHttpClient,
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
        let extra_roots = env.optional(CA_BUNDLE).map(|path| read_ca_bundle(&path)).transpose()?;
        let roots = TrustedRoots::with_extra(extra_roots);
        Ok(Self { region, credentials, endpoint: env.optional("AWS_ENDPOINT_URL"), http: https_client(&roots), roots })
    }

    /// A local emulator at `endpoint`: fixed region, dummy credentials.
    pub fn emulator(endpoint: &str) -> Self {
        let roots = TrustedRoots::with_extra(None);
        Self {
            region: "us-east-1".to_owned(),
            credentials: aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "emulator"),
            endpoint: Some(endpoint.to_owned()),
            http: https_client(&roots),
            roots,
        }
    }
}

/// Every AWS endpoint's certificate is issued under Amazon Trust Services' roots (Amazon Root
/// CA 1-4, and Starfield Services Root CA G2 which cross-signs them), copied from the Mozilla
/// bundle (Debian's ca-certificates; a test compares them). Trusting these five instead of the
/// system's ~140 skips parsing the system bundle at every cold start (90% of init's
/// instructions; docs/bench/README.md) and keeps the functions' TLS to AWS's issuers.
const AMAZON_TRUST_ROOTS: &str = include_str!("amazon-trust-roots.pem");

/// `AWS_CA_BUNDLE` (the SDKs' variable): extra roots in PEM, for a TLS-fronted emulator or
/// proxy.
const CA_BUNDLE: &str = "AWS_CA_BUNDLE";

/// The TLS roots every AWS client of the process trusts, in PEM.
#[derive(Clone)]
pub struct TrustedRoots(Arc<Vec<u8>>);

impl TrustedRoots {
    fn with_extra(extra: Option<Vec<u8>>) -> Self {
        let mut pem = AMAZON_TRUST_ROOTS.as_bytes().to_vec();
        if let Some(extra) = extra {
            pem.push(b'\n');
            pem.extend(extra);
        }
        Self(Arc::new(pem))
    }

    /// The roots for a rustls client; certificates that do not parse are left out.
    pub fn store(&self) -> rustls::RootCertStore {
        use rustls::pki_types::{CertificateDer, pem::PemObject as _};
        let mut store = rustls::RootCertStore::empty();
        store.add_parsable_certificates(CertificateDer::pem_slice_iter(&self.0).filter_map(Result::ok));
        store
    }
}

impl std::fmt::Debug for TrustedRoots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TrustedRoots({} PEM bytes)", self.0.len())
    }
}

/// The PEM bundle at `path`, each certificate checked: the TLS client would otherwise panic
/// on a bad one at the first connection.
fn read_ca_bundle(path: &str) -> Result<Vec<u8>, ConfigError> {
    use rustls::pki_types::{CertificateDer, pem::PemObject as _};
    let problem = |problem: String| ConfigError { name: CA_BUNDLE, problem };
    let pem = std::fs::read(path).map_err(|error| problem(format!("cannot read {path}: {error}")))?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| problem(format!("{path} is not PEM: {error}")))?;
    if certificates.is_empty() {
        return Err(problem(format!("{path} holds no certificate")));
    }
    for certificate in certificates {
        rustls::RootCertStore::empty()
            .add(certificate)
            .map_err(|error| problem(format!("{path} holds a certificate rustls refuses: {error}")))?;
    }
    Ok(pem)
}

/// The HTTPS client of the SDK clients: rustls on ring. ring is linked anyway (JSON web
/// tokens), so this keeps one crypto library in each binary instead of adding aws-lc, the
/// SDKs' default (size and build time in docs/bench/README.md).
fn https_client(roots: &TrustedRoots) -> SharedHttpClient {
    use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore, rustls_provider::CryptoMode};
    let trust = TrustStore::empty().with_pem_certificate(roots.0.as_slice());
    let tls = TlsContext::builder().with_trust_store(trust).build().expect("a trust store is a valid TLS context");
    aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).tls_context(tls).build_https()
}

/// An app on DynamoDB and S3, clients built once (no network until the first request).
pub fn aws_app(env: &Env<'_>, aws: &AwsEnv, table: &str, bucket: &str, path_style: bool, keys: SigningKeys) -> anyhow::Result<App> {
    let store = Arc::new(DynamoStore::new(crate::dynamodb::client(aws, None), table).with_alarm_shards(config::alarm_shards(env)?));
    let stores = Stores::from_one(&store, Arc::new(S3Blobs::new(aws, bucket, path_style)));
    Ok(App::new(stores, Arc::new(SystemClock), config::settings(env, keys)?))
}

/// Whether a function uses the signing keys: every HTTP function verifies tokens (and
/// cursors); event functions (jobs, upload events, the purge) never do, so on AWS they are
/// not given the secret at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUse {
    Signs,
    Never,
}

/// The app as configured by the process environment (Lambda functions). With
/// `TODO_STORE=dynamodb` the signing keys are `TODO_TOKEN_SECRET`'s or else read from the
/// secret `TODO_TOKEN_SECRET_ID` names (one Secrets Manager call, the only network call of a
/// cold start); a function that never uses them gets a random key of its own instead.
pub async fn from_env(key_use: KeyUse) -> anyhow::Result<App> {
    app_from(&Env::process(), key_use).await
}

/// The app as `env` configures it (`from_env`).
pub async fn app_from(env: &Env<'_>, key_use: KeyUse) -> anyhow::Result<App> {
    let keys = config::token_keys(env)?;
    if keys.is_some() && env.optional(config::TOKEN_SECRET_ID).is_some() {
        return Err(ConfigError {
            name: config::TOKEN_SECRET_ID,
            problem: format!(
                "set either {} (the keys) or {} (the secret holding them), not both",
                config::TOKEN_SECRET,
                config::TOKEN_SECRET_ID
            ),
        }
        .into());
    }
    match StoreChoice::from_env(env)? {
        #[cfg(feature = "embedded")]
        StoreChoice::Embedded => {
            let base_url = env.optional("TODO_PUBLIC_URL").unwrap_or_else(|| format!("http://{}", crate::config::DEFAULT_ADDR));
            Ok(embedded_app(env, &config::data_dir(env), keys, &base_url)?.app)
        }
        #[cfg(not(feature = "embedded"))]
        StoreChoice::Embedded => Err(ConfigError {
            name: "TODO_STORE",
            problem: "this build has no embedded store (Lambda binaries run on DynamoDB): set TODO_STORE=dynamodb".to_owned(),
        }
        .into()),
        StoreChoice::Aws { table, bucket, path_style } => {
            let aws = AwsEnv::from_env(env)?;
            let keys = match (keys, key_use) {
                (Some(keys), _) => keys,
                (None, KeyUse::Never) => unused_keys(),
                // On AWS the keys come from the template's secret; never generate them there.
                (None, KeyUse::Signs) => {
                    let id = env.optional(config::TOKEN_SECRET_ID).ok_or(ConfigError {
                        name: config::TOKEN_SECRET_ID,
                        problem: format!("is required when TODO_STORE=dynamodb (or set {})", config::TOKEN_SECRET),
                    })?;
                    let text = crate::secrets::secret_string(&aws, &id).await.map_err(|error| ConfigError {
                        name: config::TOKEN_SECRET_ID,
                        problem: format!("reading secret {id}: {error:#}"),
                    })?;
                    SigningKeys::parse(&text).map_err(|problem| ConfigError {
                        name: config::TOKEN_SECRET_ID,
                        problem: format!("the secret {id} does not hold signing keys: it {problem}"),
                    })?
                }
            };
            aws_app(env, &aws, &table, &bucket, path_style, keys)
        }
    }
}

/// A random key for a function that signs and verifies nothing: should one ever sign
/// something, no other function would accept it.
fn unused_keys() -> SigningKeys {
    let bytes: [u8; 32] = rand::random();
    SigningKeys::single(todo_domain::auth::Secret::new(bytes.to_vec()).expect("32 bytes are a valid key"))
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

    #[test]
    fn a_ca_bundle_that_is_not_certificates_is_refused_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in [("empty.pem", ""), ("garbage.pem", "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n")]
        {
            let path = dir.path().join(name);
            std::fs::write(&path, content).unwrap();
            let error = read_ca_bundle(path.to_str().unwrap()).unwrap_err();
            assert_eq!(error.name, "AWS_CA_BUNDLE");
            assert!(error.problem.contains(name), "{}", error.problem);
        }
        let good = dir.path().join("amazon.pem");
        std::fs::write(&good, AMAZON_TRUST_ROOTS).unwrap();
        assert_eq!(read_ca_bundle(good.to_str().unwrap()).unwrap(), AMAZON_TRUST_ROOTS.as_bytes());
    }

    #[test]
    fn an_unreadable_ca_bundle_is_named() {
        let bad: &'static [(&str, &str)] = &[
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "a"),
            ("AWS_SECRET_ACCESS_KEY", "b"),
            ("AWS_CA_BUNDLE", "/no/such/bundle.pem"),
        ];
        let error = AwsEnv::from_env(&env(bad)).unwrap_err();
        assert_eq!(error.name, "AWS_CA_BUNDLE");
        assert!(error.problem.contains("/no/such/bundle.pem"), "{}", error.problem);
    }

    /// The built-in roots are five certificates, each byte for byte one of the system's
    /// Mozilla-derived bundle (so none was mistyped or invented).
    #[test]
    fn the_built_in_roots_are_amazon_trust_services_roots_from_the_system_bundle() {
        let certificates: Vec<&str> = AMAZON_TRUST_ROOTS.split("-----BEGIN CERTIFICATE-----").skip(1).collect();
        assert_eq!(certificates.len(), 5);
        let system =
            std::fs::read_to_string("/etc/ssl/certs/ca-certificates.crt").expect("the system root bundle (Debian's ca-certificates)");
        let system: String = system.split_whitespace().collect();
        for certificate in certificates {
            let body: String = certificate.split("-----END CERTIFICATE-----").next().unwrap().split_whitespace().collect();
            assert!(body.len() > 500 && system.contains(&body), "not in the system bundle: {}", &body[..40]);
        }
        for name in [
            "Amazon Root CA 1",
            "Amazon Root CA 2",
            "Amazon Root CA 3",
            "Amazon Root CA 4",
            "Starfield Services Root Certificate Authority - G2",
        ] {
            assert!(AMAZON_TRUST_ROOTS.contains(&format!("# {name}\n")), "{name}");
        }
    }
}
