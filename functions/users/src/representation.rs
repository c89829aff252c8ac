//! The JSON the user service reads and writes. Request structs hold raw values and are
//! parsed into domain types once, here; response structs render domain values.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use todo_domain::error::Collector;
use todo_domain::model::{DisplayName, Email, Password, Timestamp, User};
use todo_domain::usecases::users::{Credentials, IssuedTokens, ProfileChange, SignUp};
use todo_domain::{Error, FieldError};
use todo_http::openapi::enumeration;
use todo_http::{nullable, openapi};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

fn token_type() -> ObjectBuilder {
    enumeration(&["Bearer"])
}

/// A `u64` as `str::parse` reads it: an optional `+`, any leading zeros, at most `u64::MAX`.
fn u64_pattern() -> String {
    let max = u64::MAX.to_string();
    let mut alternatives = vec![format!("[0-9]{{1,{}}}", max.len() - 1)];
    for (at, digit) in max.char_indices() {
        let digit = digit.to_digit(10).expect("digits");
        let rest = max.len() - at - 1;
        if digit > 0 {
            let tail = if rest > 0 { format!("[0-9]{{{rest}}}") } else { String::new() };
            alternatives.push(format!("{}[0-{}]{tail}", &max[..at], digit - 1));
        }
    }
    alternatives.push(max);
    format!(r"\+?0*(?:{})", alternatives.join("|"))
}

/// A refresh token's shape (`RefreshToken::parse`): `rt1.<user id>.<session id>.<generation>.<secret>`,
/// the secret 32 bytes in unpadded base64url, at most 200 characters in all.
fn refresh_token_schema() -> ObjectBuilder {
    let id = openapi::ID_PATTERN.trim_start_matches('^').trim_end_matches('$');
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(200))
        .pattern(Some(format!(r"^rt1\.{id}\.{id}\.{}\.[A-Za-z0-9_-]{{42}}[AEIMQUYcgkosw048]$", u64_pattern())))
        .description(Some("The `refresh_token` of the last token response (each is good once)."))
}

/// A new account. `name` may be absent or `null` (no display name).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SignUp)]
pub struct SignUpBody {
    #[schema(schema_with = openapi::email)]
    email: String,
    #[schema(schema_with = openapi::new_password)]
    password: String,
    #[serde(default)]
    #[schema(schema_with = openapi::display_name_or_null)]
    name: Option<String>,
}

impl TryFrom<SignUpBody> for SignUp {
    type Error = Error;
    fn try_from(body: SignUpBody) -> Result<Self, Error> {
        let mut errors = Collector::new();
        let email = errors.take("email", Email::parse(&body.email));
        let password = errors.take("password", Password::parse(&body.password));
        let name = body.name.map(|name| errors.take("name", DisplayName::parse(&name)));
        errors.finish()?;
        Ok(Self { email: email.expect("checked"), password: password.expect("checked"), name: name.flatten() })
    }
}

/// An account's email and password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = LogIn)]
pub struct LogInBody {
    #[schema(schema_with = openapi::email)]
    email: String,
    #[schema(schema_with = openapi::given_password)]
    password: String,
}

impl TryFrom<LogInBody> for Credentials {
    type Error = Error;
    fn try_from(body: LogInBody) -> Result<Self, Error> {
        let mut errors = Collector::new();
        // An email that cannot exist, and an empty password, fail as bad credentials would:
        // only the shape of the request is reported, never whether an account exists.
        let email = errors.take("email", Email::parse(&body.email));
        let password = errors.take("password", Password::for_verification(&body.password));
        errors.finish()?;
        Ok(Self { email: email.expect("checked"), password: password.expect("checked") })
    }
}

/// A refresh token to trade for a new token pair.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Refresh)]
pub struct RefreshBody {
    #[schema(schema_with = refresh_token_schema)]
    pub refresh_token: String,
}

/// A JSON merge patch of the caller's account: absent leaves a field, `null` clears `name`
/// (the other fields cannot be null). Changing `email` or `password` needs `current_password`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatchBody {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(schema_with = openapi::display_name_or_null)]
    name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(schema_with = openapi::email)]
    email: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(schema_with = openapi::new_password)]
    password: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(schema_with = openapi::given_password)]
    current_password: Option<Option<String>>,
}

/// The `ProfilePatch` schema: `ProfilePatchBody`'s, and that `password` and `email` come with
/// `current_password` (JSON Schema's `dependentRequired`, which the derive cannot state). The
/// server lets an unchanged email through without it; the schema asks for it with any email.
pub struct ProfilePatchSchema;

impl PartialSchema for ProfilePatchSchema {
    fn schema() -> RefOr<Schema> {
        openapi::with_keywords::<ProfilePatchBody>(serde_json::json!({
            "dependentRequired": { "email": ["current_password"], "password": ["current_password"] }
        }))
    }
}

impl ToSchema for ProfilePatchSchema {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ProfilePatch")
    }
}

fn required(field: &str, value: Option<Option<String>>, errors: &mut Collector) -> Option<String> {
    match value {
        Some(None) => {
            errors.push(field, "cannot be null");
            None
        }
        Some(Some(value)) => Some(value),
        None => None,
    }
}

impl TryFrom<ProfilePatchBody> for ProfileChange {
    type Error = Error;
    fn try_from(body: ProfilePatchBody) -> Result<Self, Error> {
        let mut errors = Collector::new();
        let name = body.name.map(|name| name.and_then(|name| errors.take("name", DisplayName::parse(&name))));
        let email = required("email", body.email, &mut errors).and_then(|raw| errors.take("email", Email::parse(&raw)));
        let password = required("password", body.password, &mut errors).and_then(|raw| errors.take("password", Password::parse(&raw)));
        let current_password = required("current_password", body.current_password, &mut errors)
            .and_then(|raw| errors.take("current_password", Password::for_verification(&raw)));
        errors.finish()?;
        Ok(Self { name, email, password, current_password })
    }
}

/// `DELETE /users/me`: the password confirms that the holder of the token is the person.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AccountDeletion)]
pub struct DeleteAccountBody {
    #[schema(schema_with = openapi::given_password)]
    password: String,
}

/// Request bodies print without their secrets (passwords, refresh tokens): they reach logs
/// through `Debug` (an error's context, a trace) and must not carry them there.
impl std::fmt::Debug for SignUpBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignUpBody").field("email", &self.email).field("password", &"..").field("name", &self.name).finish()
    }
}

impl std::fmt::Debug for LogInBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogInBody").field("email", &self.email).field("password", &"..").finish()
    }
}

impl std::fmt::Debug for RefreshBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshBody").field("refresh_token", &"..").finish()
    }
}

impl std::fmt::Debug for ProfilePatchBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secret = |value: &Option<Option<String>>| value.as_ref().map(|_| "..");
        f.debug_struct("ProfilePatchBody")
            .field("name", &self.name)
            .field("email", &self.email)
            .field("password", &secret(&self.password))
            .field("current_password", &secret(&self.current_password))
            .finish()
    }
}

/// Never prints the password.
impl std::fmt::Debug for DeleteAccountBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeleteAccountBody { password: .. }")
    }
}

impl DeleteAccountBody {
    pub fn password(&self) -> Result<Password, Error> {
        Password::for_verification(&self.password).map_err(|message| Error::field("password", message))
    }
}

/// Parses a refresh token, naming the field when it is not one this API issues.
pub fn refresh_token(body: &RefreshBody) -> Result<todo_domain::auth::RefreshToken, Error> {
    todo_domain::auth::RefreshToken::parse(&body.refresh_token)
        .map_err(|message| Error::Validation(vec![FieldError::new("refresh_token", message)]))
}

/// An account as its owner sees it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = User)]
pub struct UserView {
    id: String,
    /// Lower-cased.
    email: String,
    /// The display name (`null`: none).
    #[schema(required = true)]
    name: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    updated_at: Timestamp,
}

impl From<&User> for UserView {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            email: user.email.as_str().to_owned(),
            name: user.name.as_ref().map(|name| name.as_str().to_owned()),
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}

/// A new token pair. Send the access token as `Authorization: Bearer <access_token>`; trade
/// the refresh token (once) for the next pair at `POST /sessions/refresh`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Tokens)]
pub struct TokensView {
    /// The account (on sign-up and log-in; not on a refresh).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = UserView)]
    user: Option<UserView>,
    access_token: String,
    refresh_token: String,
    #[schema(schema_with = token_type)]
    token_type: &'static str,
    /// Seconds until the access token expires.
    expires_in: i64,
}

impl TokensView {
    pub fn new(user: Option<&User>, tokens: IssuedTokens) -> Self {
        Self {
            user: user.map(UserView::from),
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token.expose(),
            token_type: "Bearer",
            expires_in: tokens.expires_in,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_with_secrets_print_without_them() {
        let sign_up: SignUpBody = serde_json::from_str(r#"{"email": "ada@example.com", "password": "hunter2hunter2"}"#).unwrap();
        let log_in: LogInBody = serde_json::from_str(r#"{"email": "ada@example.com", "password": "hunter2hunter2"}"#).unwrap();
        let refresh: RefreshBody = serde_json::from_str(r#"{"refresh_token": "rt1.secret-part"}"#).unwrap();
        let patch: ProfilePatchBody =
            serde_json::from_str(r#"{"name": "Ada", "password": "hunter2hunter2", "current_password": "old-secret"}"#).unwrap();
        let delete: DeleteAccountBody = serde_json::from_str(r#"{"password": "hunter2hunter2"}"#).unwrap();
        let printed = format!("{sign_up:?} {log_in:?} {refresh:?} {patch:?} {delete:?}");
        for secret in ["hunter2", "old-secret", "secret-part"] {
            assert!(!printed.contains(secret), "{printed}");
        }
        assert!(printed.contains("ada@example.com") && printed.contains("Ada"), "{printed}");
    }
}
