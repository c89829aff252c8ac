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
use todo_http::openapi::{self, IdempotencyParams, IfMatchParams, ListParams, PageParams};
use todo_http::{Authenticated, HttpError, IdempotencyKeyHeader, IfMatch, JsonBody, ListPath, PageQuery, QueryParams, etag, nullable};
use utoipa::ToSchema;
use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};

/// A list's colour (`ListColor::parse`), or `null` for none.
fn color_or_null() -> ObjectBuilder {
    let mut values: Vec<serde_json::Value> = ListColor::ALL.iter().map(|color| color.as_str().into()).collect();
    values.push(serde_json::Value::Null);
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(values))
        .description(Some("A colour from the palette, or `null` for none."))
}

fn role() -> ObjectBuilder {
    openapi::enumeration(&["owner", "editor", "viewer"]).description(Some("What the caller may do: `owner`, `editor` or `viewer`."))
}

/// A new list, owned by the caller. `color` may be absent or `null` (none).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewList)]
pub struct CreateListBody {
    #[schema(schema_with = openapi::list_name)]
    name: String,
    #[serde(default)]
    #[schema(schema_with = color_or_null)]
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

/// A JSON merge patch of a list: absent leaves a field, `null` clears the colour or the
/// position (`name` cannot be null; the Inbox keeps its name). Renaming and recolouring need
/// owner or editor rights; any member places the list.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ListPatch)]
pub struct ListPatchBody {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(schema_with = openapi::list_name)]
    name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(schema_with = color_or_null)]
    color: Option<Option<String>>,
    /// The caller's own place for the list, 0 to 1,000,000 (smallest first); `null` puts it
    /// back among the unplaced.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 1_000_000)]
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
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = List)]
pub struct ListView {
    id: String,
    name: String,
    #[schema(schema_with = color_or_null, required = true)]
    color: Option<ListColor>,
    /// The caller's Inbox: not renamed, not deleted; its id is the account's.
    inbox: bool,
    owner_id: String,
    #[schema(schema_with = role)]
    role: &'static str,
    /// The caller's own place for the list (`null`: not placed; such lists follow, oldest first).
    #[schema(required = true, maximum = 1_000_000)]
    position: Option<u32>,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
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

/// A page of the caller's lists, in their order; `next_cursor` fetches the next (`null` on the last page).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ListPage)]
pub struct ListListView {
    items: Vec<ListView>,
    #[schema(required = true)]
    next_cursor: Option<String>,
}

/// A list with the caller's role, and its `ETag`.
pub fn list_response(status: StatusCode, access: &ListAccess) -> Response {
    let mut response = (status, Json(ListView::from(access))).into_response();
    response.headers_mut().insert(header::ETAG, etag(access.list.version));
    response
}

#[utoipa::path(post, path = "/lists", operation_id = "list-create", tag = "lists",
    summary = "Create a list, owned by the caller",
    params(IdempotencyParams), request_body = CreateListBody, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; with a replayed `Idempotency-Key`, the list first created (as it was then).", body = ListView,
            headers(("ETag" = String, description = "The list's version"), ("Location" = String, description = "The list's URL"),
                ("Idempotent-Replayed" = String, description = "`true` when this answers an earlier request with the same key")),
            links(("GetList" = (operation_id = "list-get", parameters(("list_id" = "$response.body#/id")))),
                ("UpdateList" = (operation_id = "list-update", parameters(("list_id" = "$response.body#/id")))),
                ("DeleteList" = (operation_id = "list-delete", parameters(("list_id" = "$response.body#/id")))),
                ("CreateTask" = (operation_id = "task-create", parameters(("list_id" = "$response.body#/id")))),
                ("ListTasks" = (operation_id = "task-list", parameters(("list_id" = "$response.body#/id")))),
                ("ListMembers" = (operation_id = "member-list", parameters(("list_id" = "$response.body#/id")))),
                ("UpdateOwnerRole" = (operation_id = "member-update", parameters(("list_id" = "$response.body#/id"), ("user_id" = "$response.body#/owner_id")))),
                ("RemoveOwner" = (operation_id = "member-remove", parameters(("list_id" = "$response.body#/id"), ("user_id" = "$response.body#/owner_id")))),
                ("Invite" = (operation_id = "invitation-create", parameters(("list_id" = "$response.body#/id")))))),
        (status = 409, description = "The `Idempotency-Key` was used with another request, or the caller owns 199 lists besides the Inbox already."),
    ))]
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

#[utoipa::path(get, path = "/lists", operation_id = "list-list", tag = "lists",
    summary = "The caller's lists (own and shared), in their order, paged",
    params(PageParams), security(("bearer" = [])),
    responses((status = 200, description = "A page of lists.", body = ListListView)))]
pub async fn list_lists(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    QueryParams(query): QueryParams<PageQuery>,
) -> Result<Json<ListListView>, HttpError> {
    let page = lists::list_lists(&app, principal, query.limit()?, query.cursor.as_deref()).await?;
    Ok(Json(ListListView { items: page.items.iter().map(ListView::from).collect(), next_cursor: page.next_cursor }))
}

#[utoipa::path(get, path = "/lists/{list_id}", operation_id = "list-get", tag = "lists",
    summary = "A list, with the caller's role",
    params(ListParams), security(("bearer" = [])),
    responses((status = 200, description = "The list.", body = ListView, headers(("ETag" = String, description = "The list's version")))))]
pub async fn get_list(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    ListPath(list): ListPath,
) -> Result<Response, HttpError> {
    Ok(list_response(StatusCode::OK, &lists::get_list(&app, principal, list).await?))
}

#[utoipa::path(patch, path = "/lists/{list_id}", operation_id = "list-update", tag = "lists",
    summary = "Rename, recolour or place a list (JSON merge patch)",
    params(ListParams, IfMatchParams), request_body(content = ListPatchBody, content_type = "application/merge-patch+json"), security(("bearer" = [])),
    responses(
        (status = 200, description = "The list as changed.", body = ListView, headers(("ETag" = String, description = "The list's version"))),
        (status = 403, description = "A viewer cannot rename or recolour the list."),
        (status = 409, description = "The list kept changing concurrently, or the caller's access changed during the request; retry."),
        (status = 412, description = "`If-Match` names another version; nothing changed."),
    ))]
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
#[utoipa::path(delete, path = "/lists/{list_id}", operation_id = "list-delete", tag = "lists",
    summary = "Delete a list, its tasks and files",
    params(ListParams), security(("bearer" = [])),
    responses(
        (status = 202, description = "The list is gone for everyone; its tasks and files follow shortly."),
        (status = 403, description = "Only the list's owner deletes it."),
        (status = 409, description = "The Inbox cannot be deleted."),
    ))]
pub async fn delete_list(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    ListPath(list): ListPath,
) -> Result<StatusCode, HttpError> {
    lists::delete_list(&app, principal, list).await?;
    Ok(StatusCode::ACCEPTED)
}
