//! Functions on AWS read their signing keys from Secrets Manager at cold start
//! (`TODO_TOKEN_SECRET_ID`), here from moto's server (`cargo xtask test` exports
//! `TODO_TEST_AWS_ENDPOINT`; without it these tests fail, never skip).

use serde_json::{Value, json};
use todo_adapters::bootstrap::{AwsEnv, KeyUse, app_from};
use todo_adapters::config::Env;

fn endpoint() -> String {
    std::env::var("TODO_TEST_AWS_ENDPOINT")
        .unwrap_or_else(|_| panic!("TODO_TEST_AWS_ENDPOINT is not set: run `cargo xtask test`, which starts moto's server"))
}

/// Creates a secret on the emulator with a plain call (moto does not check signatures).
async fn create_secret(endpoint: &str, name: &str, value: &str) {
    let response = post(endpoint, "secretsmanager.CreateSecret", &json!({"Name": name, "SecretString": value})).await;
    assert!(response.get("ARN").is_some(), "CreateSecret: {response}");
}

async fn post(endpoint: &str, target: &str, body: &Value) -> Value {
    use http_body_util::{BodyExt as _, Full};
    let client = todo_adapters::aws_http::https_client::<Full<bytes::Bytes>>(&AwsEnv::emulator(endpoint).roots);
    let request = http::Request::post(format!("{endpoint}/"))
        .header("x-amz-target", target)
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=0",
        )
        .body(Full::new(bytes::Bytes::from(body.to_string())))
        .unwrap();
    let response = client.request(request).await.unwrap();
    serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap()
}

fn lambda_env(endpoint: &str, extra: &[(&'static str, String)]) -> Env<'static> {
    let mut vars: Vec<(&'static str, String)> = vec![
        ("TODO_STORE", "dynamodb".to_owned()),
        ("TABLE_NAME", "unused".to_owned()),
        ("BUCKET_NAME", "unused".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
        ("AWS_ENDPOINT_URL", endpoint.to_owned()),
    ];
    vars.extend(extra.iter().cloned());
    Env::from_fn(move |name| vars.iter().find(|(key, _)| *key == name).map(|(_, value)| value.clone()))
}

fn key_set() -> String {
    json!({"current": {"kid": "k2", "key": "n".repeat(40)}, "previous": {"kid": "k1", "key": "o".repeat(40)}}).to_string()
}

#[tokio::test]
async fn the_secret_named_by_the_configuration_is_read_as_it_was_written() {
    let endpoint = endpoint();
    let name = format!("todo-test-keys-{}", ulid::Ulid::new());
    create_secret(&endpoint, &name, &key_set()).await;
    let text = todo_adapters::secrets::secret_string(&AwsEnv::emulator(&endpoint), &name).await.unwrap();
    assert_eq!(text, key_set());
    let app = app_from(&lambda_env(&endpoint, &[("TODO_TOKEN_SECRET_ID", name)]), KeyUse::Signs).await.unwrap();
    let ids: Vec<&str> = app.settings.token_keys.all().map(|key| key.id.as_str()).collect();
    assert_eq!(ids, ["k2", "k1"], "the functions sign with the secret's current key and accept the previous one");
}

#[tokio::test]
async fn a_missing_unreadable_or_unnamed_secret_fails_the_cold_start_naming_the_variable() {
    let endpoint = endpoint();
    let missing = format!("todo-test-missing-{}", ulid::Ulid::new());
    let error = app_from(&lambda_env(&endpoint, &[("TODO_TOKEN_SECRET_ID", missing.clone())]), KeyUse::Signs).await.unwrap_err();
    let message = format!("{error:#}");
    assert!(message.contains("TODO_TOKEN_SECRET_ID") && message.contains(&missing) && message.contains("ResourceNotFound"), "{message}");

    let short = format!("todo-test-short-{}", ulid::Ulid::new());
    create_secret(&endpoint, &short, "too short to sign with").await;
    let error = app_from(&lambda_env(&endpoint, &[("TODO_TOKEN_SECRET_ID", short)]), KeyUse::Signs).await.unwrap_err();
    let message = format!("{error:#}");
    assert!(
        message.contains("TODO_TOKEN_SECRET_ID") && !message.contains("too short to sign with"),
        "names the variable, never echoes the secret: {message}"
    );

    let error = app_from(&lambda_env(&endpoint, &[]), KeyUse::Signs).await.unwrap_err();
    assert!(format!("{error:#}").contains("TODO_TOKEN_SECRET_ID"), "{error:#}");

    let both = [("TODO_TOKEN_SECRET_ID", "some-secret".to_owned()), ("TODO_TOKEN_SECRET", "s".repeat(40))];
    let error = app_from(&lambda_env(&endpoint, &both), KeyUse::Signs).await.unwrap_err();
    assert!(format!("{error:#}").contains("not both"), "{error:#}");
}

#[tokio::test]
async fn functions_that_never_use_the_keys_start_without_the_secret() {
    // No secret id and no endpoint that could answer: nothing is fetched.
    let app = app_from(&lambda_env("http://127.0.0.1:1", &[]), KeyUse::Never).await.unwrap();
    assert_eq!(app.settings.token_keys.all().count(), 1);
}
