//! The JSON the user service reads and writes. Request structs hold raw values and are
//! parsed into domain types once, here; response structs render domain values.

use serde::{Deserialize, Serialize};
use todo_domain::error::Collector;
use todo_domain::model::{DisplayName, Email, Password, Timestamp, User};
use todo_domain::usecases::users::{Credentials, IssuedTokens, ProfileChange, SignUp};
use todo_domain::{Error, FieldError};
use todo_http::nullable;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignUpBody {
    email: String,
    password: String,
    #[serde(default)]
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogInBody {
    email: String,
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    pub refresh_token: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatchBody {
    #[serde(default, deserialize_with = "nullable")]
    name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    email: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    password: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    current_password: Option<Option<String>>,
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
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteAccountBody {
    password: String,
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

#[derive(Debug, Serialize)]
pub struct UserView {
    id: String,
    email: String,
    name: Option<String>,
    created_at: Timestamp,
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

#[derive(Debug, Serialize)]
pub struct TokensView {
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<UserView>,
    access_token: String,
    refresh_token: String,
    token_type: &'static str,
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
