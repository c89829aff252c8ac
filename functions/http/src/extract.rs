//! Extractors: each turns one part of a request into a parsed value or a field-named error.
//!
//! Each extractor parses with the domain's `Error` (what its `?`s produce) and converts to
//! `HttpError` once, at the end.

use axum::extract::{FromRequest, FromRequestParts, Request};
use bytes::Bytes;
use http::request::Parts;
use http::{HeaderValue, StatusCode, header};
use serde::Deserialize as _;
use serde::de::DeserializeOwned;

use todo_domain::App;
use todo_domain::auth::Principal;
use todo_domain::model::{FileId, IdempotencyKey, InvitationId, ListId, TaskId, UserId};
use todo_domain::{Error, FieldError};

use crate::operation::BODY_LIMIT_BYTES;
use crate::problem::HttpError;

/// A JSON body deserialised into `T`, with errors that name the offending field.
/// `T` is a raw request struct (primitive types, `deny_unknown_fields`); converting it
/// into domain types is the handler's next step.
pub struct JsonBody<T> {
    pub value: T,
    /// The body as parsed JSON, for fingerprinting a request (idempotency).
    pub canonical: serde_json::Value,
}

/// Prints the parsed value only (whose `Debug` keeps secrets out), never the raw JSON.
impl<T: std::fmt::Debug> std::fmt::Debug for JsonBody<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonBody").field("value", &self.value).finish_non_exhaustive()
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = HttpError;

    async fn from_request(request: Request, state: &S) -> Result<Self, HttpError> {
        let result: Result<Self, Error> = async {
            let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or("");
            if !is_json(content_type) {
                return Err(Error::UnsupportedMediaType("send the body as application/json".to_owned()));
            }
            let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    Error::PayloadTooLarge { limit: BODY_LIMIT_BYTES }
                } else {
                    Error::Malformed { detail: "the request body could not be read".to_owned(), field: None }
                }
            })?;
            let StrictJson(canonical) = serde_json::from_slice(&bytes).map_err(|error| {
                let message = strip_position(&error.to_string());
                if message.starts_with("duplicate field `") {
                    Error::Malformed { field: Some(field_name(".", &message)), detail: message }
                } else {
                    Error::Malformed { detail: format!("the body is not valid JSON: {message}"), field: None }
                }
            })?;
            if !canonical.is_object() {
                return Err(Error::Malformed { detail: "the body must be a JSON object".to_owned(), field: None });
            }
            let value = serde_path_to_error::deserialize(&canonical).map_err(|error| {
                let path = error.path().to_string();
                let message = strip_position(&error.into_inner().to_string());
                Error::Malformed { field: Some(field_name(&path, &message)), detail: message }
            })?;
            Ok(Self { value, canonical })
        }
        .await;
        result.map_err(HttpError)
    }
}

/// A request body as JSON, read strictly: a key twice in one object is refused (serde_json
/// would keep the last, so `{"title": "a", "title": "b"}` would pass as "b" to one reader and
/// "a" to another), and a whole number written as a float (`2.0`: the integer 2 to JSON and to
/// JSON Schema's `integer`) becomes an integer, which serde reads as one. Nesting is bounded
/// by serde_json's recursion limit (128).
struct StrictJson(serde_json::Value);

impl<'de> serde::Deserialize<'de> for StrictJson {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictJsonVisitor).map(StrictJson)
    }
}

struct StrictJsonVisitor;

impl<'de> serde::de::Visitor<'de> for StrictJsonVisitor {
    type Value = serde_json::Value;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("JSON")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Self::Value, E> {
        Ok(value.into())
    }

    fn visit_i64<E>(self, value: i64) -> Result<Self::Value, E> {
        Ok(value.into())
    }

    fn visit_u64<E>(self, value: u64) -> Result<Self::Value, E> {
        Ok(value.into())
    }

    fn visit_f64<E>(self, value: f64) -> Result<Self::Value, E> {
        // Below 2^53 every whole float is exactly an i64.
        if value.fract() == 0.0 && value.abs() < 9.0e15 {
            #[allow(clippy::cast_possible_truncation)]
            return Ok((value as i64).into());
        }
        Ok(value.into())
    }

    fn visit_str<E>(self, value: &str) -> Result<Self::Value, E> {
        Ok(value.into())
    }

    fn visit_string<E>(self, value: String) -> Result<Self::Value, E> {
        Ok(value.into())
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictJson(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(items.into())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let StrictJson(value) = map.next_value()?;
            if fields.insert(key.clone(), value).is_some() {
                return Err(serde::de::Error::custom(format!("duplicate field `{key}`")));
            }
        }
        Ok(fields.into())
    }
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// serde_json appends " at line L column C", which means nothing to an API client.
fn strip_position(message: &str) -> String {
    message.find(" at line ").map_or(message, |at| &message[..at]).to_owned()
}

/// The field a deserialisation error is about: the path where it happened, or the field
/// named in "unknown field `x`" / "missing field `x`" messages raised at the parent.
fn field_name(path: &str, message: &str) -> String {
    let named = ["unknown field `", "missing field `", "duplicate field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next());
    let parent = if path == "." { "" } else { path };
    // serde_path_to_error already includes an unknown field in the path.
    if named.is_some_and(|name| parent == name || parent.ends_with(&format!(".{name}"))) {
        return parent.to_owned();
    }
    match named {
        Some(name) if parent.is_empty() => name.to_owned(),
        Some(name) => format!("{parent}.{name}"),
        None if parent.is_empty() => "body".to_owned(),
        None => parent.to_owned(),
    }
}

/// The query string deserialised into `T` (a struct of optional strings with
/// `deny_unknown_fields`); values are parsed by the handler, which names each field.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, HttpError> {
        let result: Result<Self, Error> = async {
            let query = parts.uri.query().unwrap_or("");
            serde_urlencoded::from_str(query).map(QueryParams).map_err(|error| {
                let message = error.to_string();
                Error::Validation(vec![FieldError::new(field_name(".", &message), message)])
            })
        }
        .await;
        result.map_err(HttpError)
    }
}

/// The caller, from `Authorization: Bearer <access token>`.
#[derive(Debug, Clone, Copy)]
pub struct Authenticated(pub Principal);

impl FromRequestParts<App> for Authenticated {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, HttpError> {
        let result: Result<Self, Error> = async {
            let header = parts
                .headers
                .get(header::AUTHORIZATION)
                .ok_or(Error::Unauthenticated("send an access token as `Authorization: Bearer <token>`"))?;
            let value = header.to_str().map_err(|_| Error::Unauthenticated("the Authorization header is not valid"))?;
            let token = match value.split_once(' ') {
                Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
                _ => return Err(Error::Unauthenticated("the Authorization header must use the Bearer scheme")),
            };
            app.access_tokens.verify(token).map(Authenticated).map_err(Error::Unauthenticated)
        }
        .await;
        result.map_err(HttpError)
    }
}

/// `If-Match`: `None` when absent or `*`; the version an entity tag names otherwise. A tag
/// this API never issued (malformed, or not a number) names `IfMatch::UNISSUED`, which no
/// resource ever has: the use case answers 412 once the rest of the request is found valid,
/// so a bad body is still reported as such.
#[derive(Debug, Clone, Copy)]
pub struct IfMatch(pub Option<u64>);

impl IfMatch {
    /// A version no resource reaches (versions count writes from 1).
    pub const UNISSUED: u64 = u64::MAX;
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, HttpError> {
        let Some(header) = parts.headers.get(header::IF_MATCH) else {
            return Ok(Self(None));
        };
        let Ok(value) = header.to_str().map(str::trim) else {
            return Ok(Self(Some(Self::UNISSUED)));
        };
        if value == "*" {
            return Ok(Self(None));
        }
        let tag = value.strip_prefix("W/").unwrap_or(value);
        let version = tag.strip_prefix('"').and_then(|t| t.strip_suffix('"')).and_then(|v| v.parse().ok());
        Ok(Self(Some(version.unwrap_or(Self::UNISSUED))))
    }
}

/// The `ETag` of a resource at `version`.
pub fn etag(version: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).expect("a quoted number is a valid header value")
}

/// An optional `Idempotency-Key` header, parsed.
#[derive(Debug, Clone)]
pub struct IdempotencyKeyHeader(pub Option<IdempotencyKey>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKeyHeader {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, HttpError> {
        let result: Result<Self, Error> = async {
            let Some(header) = parts.headers.get("idempotency-key") else {
                return Ok(Self(None));
            };
            let raw = header.to_str().map_err(|_| Error::field("Idempotency-Key", "must be visible ASCII characters only"))?;
            IdempotencyKey::parse(raw).map(|key| Self(Some(key))).map_err(|message| Error::field("Idempotency-Key", message))
        }
        .await;
        result.map_err(HttpError)
    }
}

/// The single `{param}` of a route's path, as text. Undecodable segments (bad
/// percent-encoding, invalid UTF-8) are a problem naming the parameter, like any bad id.
#[derive(Debug, Clone)]
pub struct PathParam(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathParam {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, HttpError> {
        let result: Result<Self, Error> = async {
            let name = parts.extensions.get::<axum::extract::MatchedPath>().and_then(|path| {
                let path = path.as_str();
                Some(path[path.rfind('{')? + 1..path.rfind('}')?].to_owned())
            });
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map(|axum::extract::Path(value)| Self(value))
                .map_err(|_| Error::field(name.unwrap_or_else(|| "path".to_owned()), "is not a valid path segment"))
        }
        .await;
        result.map_err(HttpError)
    }
}

/// All `{params}` of a route's path, as text (for routes with more than one).
#[derive(Debug, Clone)]
pub struct PathParams(std::collections::HashMap<String, String>);

impl PathParams {
    pub fn get(&self, name: &str) -> Result<&str, Error> {
        self.0.get(name).map(String::as_str).ok_or_else(|| Error::field(name, "is missing"))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PathParams {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, HttpError> {
        let result: Result<Self, Error> = async {
            axum::extract::Path::<std::collections::HashMap<String, String>>::from_request_parts(parts, state)
                .await
                .map(|axum::extract::Path(params)| Self(params))
                .map_err(|_| Error::field(undecodable_param(parts).unwrap_or_else(|| "path".to_owned()), "is not a valid path segment"))
        }
        .await;
        result.map_err(HttpError)
    }
}

/// The name of the first `{param}` of the matched route whose segment does not decode
/// (percent-encoding that is not UTF-8), so the problem names the field a client sent.
fn undecodable_param(parts: &Parts) -> Option<String> {
    let template = parts.extensions.get::<axum::extract::MatchedPath>()?.as_str().to_owned();
    template.split('/').zip(parts.uri.path().split('/')).find_map(|(pattern, segment)| {
        let name = pattern.strip_prefix('{')?.strip_suffix('}')?;
        percent_encoding::percent_decode_str(segment).decode_utf8().is_err().then(|| name.to_owned())
    })
}

/// `?limit=&cursor=` of a plain paged list; the limit is checked when asked for.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    limit: Option<String>,
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn limit(&self) -> Result<Option<u32>, Error> {
        use todo_domain::usecases::tasks::MAX_PAGE_SIZE;
        self.limit
            .as_deref()
            .map(|raw| {
                raw.parse::<u32>()
                    .ok()
                    .filter(|limit| (1..=MAX_PAGE_SIZE).contains(limit))
                    .ok_or_else(|| Error::field("limit", format!("must be an integer from 1 to {MAX_PAGE_SIZE}")))
            })
            .transpose()
    }
}

/// The list a `/lists/{list_id}...` route names.
#[derive(Debug, Clone, Copy)]
pub struct ListPath(pub ListId);

/// The task a `/lists/{list_id}/tasks/{task_id}...` route names, and its list.
#[derive(Debug, Clone, Copy)]
pub struct TaskPath {
    pub list: ListId,
    pub task: TaskId,
}

/// The file a `/lists/{list_id}/tasks/{task_id}/files/{file_id}` route names.
#[derive(Debug, Clone, Copy)]
pub struct FilePath {
    pub list: ListId,
    pub task: TaskId,
    pub file: FileId,
}

/// The member a `/lists/{list_id}/members/{user_id}` route names.
#[derive(Debug, Clone, Copy)]
pub struct MemberPath {
    pub list: ListId,
    pub user: UserId,
}

/// The invitation a `/lists/{list_id}/invitations/{invitation_id}` route names.
#[derive(Debug, Clone, Copy)]
pub struct ListInvitationPath {
    pub list: ListId,
    pub invitation: InvitationId,
}

/// The invitation an invitee's `/invitations/{invitation_id}/...` route names.
#[derive(Debug, Clone, Copy)]
pub struct InvitationPath(pub InvitationId);

fn invitation_of(params: &PathParams) -> Result<InvitationId, Error> {
    parse_path_id("invitation_id", params.get("invitation_id")?, InvitationId::parse)
}

fn list_of(params: &PathParams) -> Result<ListId, Error> {
    parse_path_id("list_id", params.get("list_id")?, ListId::parse)
}

fn task_of(params: &PathParams) -> Result<TaskId, Error> {
    parse_path_id("task_id", params.get("task_id")?, TaskId::parse)
}

macro_rules! path_extractor {
    ($name:ident, |$params:ident| $build:expr) => {
        impl<S: Send + Sync> FromRequestParts<S> for $name {
            type Rejection = HttpError;

            async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, HttpError> {
                let $params = PathParams::from_request_parts(parts, state).await?;
                let built: Result<Self, Error> = (|| $build)();
                built.map_err(HttpError)
            }
        }
    };
}

path_extractor!(ListPath, |params| Ok(ListPath(list_of(&params)?)));
path_extractor!(TaskPath, |params| Ok(TaskPath { list: list_of(&params)?, task: task_of(&params)? }));
path_extractor!(FilePath, |params| Ok(FilePath {
    list: list_of(&params)?,
    task: task_of(&params)?,
    file: parse_path_id("file_id", params.get("file_id")?, FileId::parse)?,
}));

path_extractor!(MemberPath, |params| Ok(MemberPath {
    list: list_of(&params)?,
    user: parse_path_id("user_id", params.get("user_id")?, UserId::parse)?
}));
path_extractor!(ListInvitationPath, |params| Ok(ListInvitationPath { list: list_of(&params)?, invitation: invitation_of(&params)? }));
path_extractor!(InvitationPath, |params| Ok(InvitationPath(invitation_of(&params)?)));

/// Parses an id from a path segment, naming the segment in the error.
pub fn parse_path_id<T>(field: &str, raw: &str, parse: fn(&str) -> Result<T, String>) -> Result<T, Error> {
    parse(raw).map_err(|message| Error::field(field, message))
}

/// For merge-patch fields: tells "absent" (`None`) from "null" (`Some(None)`). Use with
/// `#[serde(default, deserialize_with = "nullable")]`.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fields_from_paths_and_messages() {
        assert_eq!(field_name(".", "unknown field `colour`, expected one of `title`"), "colour");
        assert_eq!(field_name("recurrence", "missing field `freq`"), "recurrence.freq");
        assert_eq!(field_name("priority", "invalid type: string \"x\", expected i64"), "priority");
        assert_eq!(field_name(".", "invalid type: integer, expected a map"), "body");
        assert_eq!(field_name("colour", "unknown field `colour`, expected `title`"), "colour");
    }

    #[test]
    fn bodies_are_read_strictly() {
        let read = |text: &str| serde_json::from_str::<StrictJson>(text).map(|StrictJson(value)| value);
        let value = read(r#"{"size": 94103.0, "nested": [1.5, -2.0, 3, {"a": null}], "big": 1e300}"#).unwrap();
        assert_eq!(value, serde_json::json!({"size": 94103, "nested": [1.5, -2, 3, {"a": null}], "big": 1e300}));
        assert!(value["size"].is_i64());
        let duplicate = read(r#"{"title": "a", "notes": {"x": 1, "x": 2}}"#).unwrap_err().to_string();
        assert!(duplicate.starts_with("duplicate field `x`"), "{duplicate}");
        assert!(read(&format!("{}{}", "[".repeat(200), "]".repeat(200))).is_err(), "nesting is bounded");
    }

    #[test]
    fn accepts_json_media_types_only() {
        assert!(is_json("application/json"));
        assert!(is_json("application/json; charset=utf-8"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json(""));
    }
}
