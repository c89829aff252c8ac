//! Request → use case → response, for each list route.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};
use todo_domain::error::Collector;
use todo_domain::model::{ListColor, ListName, ListPatch, ListPosition, NewList, Timestamp};
use todo_domain::usecases::idempotency::Idempotency;
use todo_domain::usecases::lists::{self, ListAccess};
use todo_domain::{App, Error};
use todo_http::{Authenticated, HttpError, IdempotencyKeyHeader, IfMatch, JsonBody, ListPath, PageQuery, QueryParams, etag, nullable};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateListBody {
    name: String,
    #[serde(default)]
    color: Option<String>,
}

impl TryFrom<CreateListBody> for NewList {
    type Error = Error;
    fn try_from(body: CreateListBody) -> Result<Self, Error> {
        let mut errors = Collector::new();
        let name = errors.take("name", ListName::parse(&body.name));
        let color = body.color.and_then(|raw| errors.take("color", ListColor::parse(&raw)));
        errors.finish()?;
        Ok(Self { name: name.expect("checked"), color })
    }
}

/// A JSON merge patch of a list: absent leaves a field, `null` clears the colour.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListPatchBody {
    #[serde(default, deserialize_with = "nullable")]
    name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    color: Option<Option<String>>,
    /// The caller's own place for the list; `null` puts it back among the unplaced.
    #[serde(default, deserialize_with = "nullable")]
    position: Option<Option<i64>>,
}

impl TryFrom<ListPatchBody> for ListPatch {
    type Error = Error;
    fn try_from(body: ListPatchBody) -> Result<Self, Error> {
        let mut errors = Collector::new();
        let name = match body.name {
            Some(None) => {
                errors.push("name", "cannot be null");
                None
            }
            Some(Some(raw)) => errors.take("name", ListName::parse(&raw)),
            None => None,
        };
        let color = match body.color {
            None => None,
            Some(None) => Some(None),
            Some(Some(raw)) => errors.take("color", ListColor::parse(&raw)).map(Some),
        };
        let position = match body.position {
            None => None,
            Some(None) => Some(None),
            Some(Some(raw)) => errors.take("position", ListPosition::parse(raw)).map(Some),
        };
        errors.finish()?;
        Ok(Self { name, color, position })
    }
}

/// A list as the API shows it, with the caller's role.
#[derive(Debug, Serialize)]
pub struct ListView {
    id: String,
    name: String,
    color: Option<ListColor>,
    /// The caller's Inbox: not renamed, not deleted; its id is the account's.
    inbox: bool,
    owner_id: String,
    /// What the caller may do: `owner`, `editor` or `viewer`.
    role: &'static str,
    /// The caller's own place for the list (`null`: not placed; such lists follow, oldest first).
    position: Option<u32>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl From<&ListAccess> for ListView {
    fn from(ListAccess { role, position, list }: &ListAccess) -> Self {
        Self {
            id: list.id.to_string(),
            name: list.name.as_str().to_owned(),
            color: list.color,
            inbox: list.inbox,
            owner_id: list.owner.to_string(),
            role: role.as_str(),
            position: position.map(ListPosition::get),
            created_at: list.created_at,
            updated_at: list.updated_at,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ListListView {
    items: Vec<ListView>,
    next_cursor: Option<String>,
}

/// A list with the caller's role, and its `ETag`.
pub fn list_response(status: StatusCode, access: &ListAccess) -> Response {
    let mut response = (status, Json(ListView::from(access))).into_response();
    response.headers_mut().insert(header::ETAG, etag(access.list.version));
    response
}

pub async fn create_list(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    IdempotencyKeyHeader(key): IdempotencyKeyHeader,
    body: JsonBody<CreateListBody>,
) -> Result<Response, HttpError> {
    let idempotency = key.map(|key| Idempotency::for_request(key, &body.canonical));
    let created = lists::create_list(&app, principal, body.value.try_into()?, idempotency).await?;
    let mut response = list_response(StatusCode::CREATED, &created.list);
    let location = HeaderValue::from_str(&format!("/lists/{}", created.list.list.id)).expect("ids are header-safe");
    response.headers_mut().insert(header::LOCATION, location);
    if created.replayed {
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

pub async fn list_lists(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    QueryParams(query): QueryParams<PageQuery>,
) -> Result<Json<ListListView>, HttpError> {
    let page = lists::list_lists(&app, principal, query.limit()?, query.cursor.as_deref()).await?;
    Ok(Json(ListListView { items: page.items.iter().map(ListView::from).collect(), next_cursor: page.next_cursor }))
}

pub async fn get_list(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    ListPath(list): ListPath,
) -> Result<Response, HttpError> {
    Ok(list_response(StatusCode::OK, &lists::get_list(&app, principal, list).await?))
}

pub async fn update_list(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    ListPath(list): ListPath,
    IfMatch(if_match): IfMatch,
    body: JsonBody<ListPatchBody>,
) -> Result<Response, HttpError> {
    let updated = lists::update_list(&app, principal, list, body.value.try_into()?, if_match).await?;
    Ok(list_response(StatusCode::OK, &updated))
}

/// 202: the list is gone for everyone at once; its tasks and files follow off the request path.
pub async fn delete_list(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    ListPath(list): ListPath,
) -> Result<StatusCode, HttpError> {
    lists::delete_list(&app, principal, list).await?;
    Ok(StatusCode::ACCEPTED)
}
