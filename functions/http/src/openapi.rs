//! The OpenAPI 3.1 document's shared parts. Each service crate describes its routes with
//! `#[utoipa::path]` on the handlers; `document` joins them and adds what every operation
//! shares: the problem+json error responses, the bearer scheme.
//!
//! The string schemas below state the domain's text rules exactly (patterns built from
//! `todo_domain::model::text`, limits from the newtypes' constants), so a client, and
//! schemathesis, can tell valid input from invalid without calling the API. `tests` check
//! each against its parser.

use todo_domain::model::text::{CONTROL_CLASS, FORBIDDEN_IN_LINE_CLASS, NFKC_UNSTABLE_CLASS, WHITESPACE_CLASS};
use todo_domain::model::{DisplayName, Email, FileName, ListName, Notes, Password, Tag, Tags, Title};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ArrayBuilder, KnownFormat, ObjectBuilder, SchemaFormat, SchemaType, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, InfoBuilder, OpenApi, Ref, RefOr, Required, Schema};
use utoipa::{IntoParams, PartialSchema, ToSchema};

/// The name of the bearer security scheme (`security(("bearer" = []))` on a route).
pub const BEARER: &str = "bearer";

/// The `Problem` a 4xx or 5xx carries (RFC 9457); `crate::problem` writes it.
#[derive(Debug, ToSchema)]
#[schema(as = Problem)]
#[allow(dead_code)]
pub struct ProblemSchema {
    /// `/problems/<kind>`, e.g. `/problems/validation`.
    #[schema(rename = "type", example = "/problems/validation")]
    kind: String,
    #[schema(example = "Invalid input")]
    title: String,
    #[schema(example = 422)]
    status: u16,
    #[schema(example = "invalid value for title")]
    detail: String,
    /// Present on 422 (and on a 400 that names a field): one entry per rejected field.
    #[schema(required = false)]
    errors: Vec<FieldErrorSchema>,
}

#[derive(Debug, ToSchema)]
#[schema(as = FieldError)]
#[allow(dead_code)]
pub struct FieldErrorSchema {
    /// The field, as a dotted path into the body (`recurrence.interval`), a query or path
    /// parameter, or a header (`Idempotency-Key`).
    #[schema(example = "title")]
    field: String,
    #[schema(example = "must not be blank")]
    message: String,
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

/// A string that is one of `values`.
pub fn enumeration(values: &[&str]) -> ObjectBuilder {
    string().enum_values(Some(values.iter().copied()))
}

fn or_null(schema: ObjectBuilder) -> ObjectBuilder {
    schema.schema_type(SchemaType::from_iter([Type::String, Type::Null]))
}

/// One line of text with at least one visible character and none `forbidden_in_line`.
pub fn line_pattern() -> String {
    let f = FORBIDDEN_IN_LINE_CLASS;
    format!("^[^{f}]*[^{f}{WHITESPACE_CLASS}][^{f}]*$")
}

fn line(max: usize, description: &str, example: &str) -> ObjectBuilder {
    string()
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(line_pattern()))
        .description(Some(format!(
            "{description} One line of at most {max} characters as sent (kept trimmed); no control, bidi-override or zero-width characters."
        )))
        .examples([example])
}

pub fn title() -> ObjectBuilder {
    line(Title::MAX_CHARS, "The task's title.", "Pay rent")
}

/// `CONTROL_CLASS` less tab, newline and carriage return.
const NOTES_FORBIDDEN_CLASS: &str = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f";

pub fn notes() -> ObjectBuilder {
    string().max_length(Some(Notes::MAX_CHARS)).pattern(Some(format!("^[^{NOTES_FORBIDDEN_CLASS}]*$"))).description(Some(format!(
        "Free text, up to {} characters; newlines and tabs allowed, no other control characters.",
        Notes::MAX_CHARS
    )))
}

pub fn notes_or_null() -> ObjectBuilder {
    or_null(notes())
}

pub fn list_name() -> ObjectBuilder {
    line(ListName::MAX_CHARS, "The list's name.", "Bills")
}

pub fn display_name() -> ObjectBuilder {
    line(DisplayName::MAX_CHARS, "The name others see.", "Ada")
}

pub fn display_name_or_null() -> ObjectBuilder {
    or_null(display_name())
}

pub fn file_name() -> ObjectBuilder {
    let f = FORBIDDEN_IN_LINE_CLASS;
    string()
        .min_length(Some(1))
        .max_length(Some(FileName::MAX_CHARS))
        .pattern(Some(format!(r"^[^{f}/\\]*[^{f}{WHITESPACE_CLASS}/\\.][^{f}/\\]*$")))
        .description(Some(format!(
            "The file's name: one line of at most {} characters (kept trimmed), no `/` or `\\`, not only dots and spaces.",
            FileName::MAX_CHARS
        )))
        .examples(["lease.pdf"])
}

/// A media type without parameters (`ContentType::parse`).
pub fn content_type() -> ObjectBuilder {
    let token = r"[A-Za-z0-9!#$&^_.+-]{1,63}";
    string().pattern(Some(format!("^{token}/{token}$"))).description(Some("A media type without parameters.")).examples(["application/pdf"])
}

pub fn email() -> ObjectBuilder {
    let unstable = NFKC_UNSTABLE_CLASS.as_str();
    let part = format!("[^@{CONTROL_CLASS}{WHITESPACE_CLASS}{unstable}");
    string()
        .max_length(Some(Email::MAX_CHARS))
        .pattern(Some(format!(r"^{part}]{{1,64}}@{part}.]{{1,63}}(\.{part}.]{{1,63}})+$")))
        .description(Some(
            "An email address (compared without case). No spaces, one `@`, a dotted domain; plain characters only \
             (nothing Unicode NFKC would change, such as `ａ` or `ﬁ`).",
        ))
        .examples(["ada@example.com"])
}

/// A new password (`Password::parse`).
pub fn new_password() -> ObjectBuilder {
    string()
        .min_length(Some(Password::MIN_CHARS))
        .max_length(Some(Password::MAX_CHARS))
        .pattern(Some(format!("^[^{CONTROL_CLASS}]*$")))
        .description(Some(format!("{} to {} characters, no control characters.", Password::MIN_CHARS, Password::MAX_CHARS)))
        .examples(["correct horse battery"])
}

/// A password given to be checked (`Password::for_verification`): any, within the cap.
pub fn given_password() -> ObjectBuilder {
    string().min_length(Some(1)).max_length(Some(Password::MAX_CHARS)).examples(["correct horse battery"])
}

pub fn tag() -> ObjectBuilder {
    string()
        .min_length(Some(1))
        .max_length(Some(Tag::MAX_CHARS))
        .pattern(Some(format!("^[^{CONTROL_CLASS}{WHITESPACE_CLASS},]*$")))
        .description(Some("A tag: no spaces or commas; kept lower-cased."))
        .examples(["bills"])
}

pub fn tags() -> ArrayBuilder {
    ArrayBuilder::new()
        .items(tag())
        .max_items(Some(Tags::MAX))
        .description(Some(format!("At most {} tags; repeats are kept once.", Tags::MAX)))
}

pub fn tags_or_null() -> ArrayBuilder {
    tags().schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
}

/// `T`'s derived schema with JSON Schema keywords the derive cannot state (`if`/`then`,
/// `dependentRequired`) added beside its own, for a cross-field rule.
pub fn with_keywords<T: PartialSchema>(keywords: serde_json::Value) -> RefOr<Schema> {
    let mut schema = T::schema();
    if let (RefOr::T(Schema::Object(object)), serde_json::Value::Object(keywords)) = (&mut schema, keywords) {
        let extensions = object.extensions.get_or_insert_with(Default::default);
        for (keyword, value) in keywords {
            extensions.insert(keyword, value);
        }
    }
    schema
}

/// The canonical spelling of a ULID, as ids are (`ulid_id!`).
pub const ID_PATTERN: &str = "^[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}$";

pub fn id() -> ObjectBuilder {
    string().pattern(Some(ID_PATTERN)).description(Some("An id (a ULID).")).examples(["01JH8ZQ6V4N3B9Y2C7D5E0F1GA"])
}

/// An RFC 3339 date-time with an explicit offset, years 1 to 9999 in UTC (`Timestamp::parse`).
pub fn timestamp() -> ObjectBuilder {
    string().format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))).max_length(Some(64)).examples(["2027-01-31T09:00:00Z"])
}

pub fn timestamp_or_null() -> ObjectBuilder {
    or_null(timestamp())
}

/// `?limit=&cursor=` of a plain paged list.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PageParams {
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// The `next_cursor` of the page before; only this API's own cursors are valid.
    cursor: Option<String>,
}

macro_rules! path_params {
    ($(#[$meta:meta])* $name:ident { $($field:ident),* }) => {
        $(#[$meta])*
        #[derive(Debug, IntoParams)]
        #[into_params(parameter_in = Path)]
        #[allow(dead_code)]
        pub struct $name {
            $(#[param(schema_with = id)] $field: String,)*
        }
    };
}

path_params!(
    /// `/lists/{list_id}`
    ListParams { list_id }
);
path_params!(
    /// `/lists/{list_id}/tasks/{task_id}`
    TaskParams { list_id, task_id }
);
path_params!(
    /// `/lists/{list_id}/tasks/{task_id}/files/{file_id}`
    FileParams { list_id, task_id, file_id }
);
path_params!(
    /// `/lists/{list_id}/members/{user_id}`
    MemberParams { list_id, user_id }
);
path_params!(
    /// `/lists/{list_id}/invitations/{invitation_id}`
    ListInvitationParams { list_id, invitation_id }
);
path_params!(
    /// `/invitations/{invitation_id}`
    InvitationParams { invitation_id }
);
path_params!(
    /// `/notifications/{id}`
    NotificationParams { id }
);

/// `If-Match` on a write.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct IfMatchParams {
    /// The `ETag` the change is based on; a stale one answers 412 and changes nothing.
    /// Absent or `*`: no precondition.
    #[param(rename = "If-Match", example = "\"3\"")]
    if_match: Option<String>,
}

/// `Idempotency-Key` on a create.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct IdempotencyParams {
    /// Retrying with the same key and body answers the first result (with
    /// `Idempotent-Replayed: true`) for 24 hours instead of creating again; the same key with
    /// another body is a 409. 1 to 255 visible ASCII characters.
    #[param(rename = "Idempotency-Key", min_length = 1, max_length = 255, pattern = "^[!-~]+$", example = "7c1d9f0e-first-task")]
    idempotency_key: Option<String>,
}

const PROBLEM_MEDIA_TYPE: &str = "application/problem+json";

fn problem_content() -> utoipa::openapi::Content {
    ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build()
}

fn problem(description: &str) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new().description(description).content(PROBLEM_MEDIA_TYPE, problem_content()).build().into()
}

fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch].into_iter().flatten()
}

/// The whole API's document from each service's: the shared schemas, the bearer scheme and
/// the error responses every operation can give. A route declares its own (403, 409, 412,
/// 429) by status and description; their body, the Problem, is added here.
pub fn document(services: impl IntoIterator<Item = OpenApi>) -> OpenApi {
    let mut document = OpenApi::new(
        InfoBuilder::new()
            .title("To-Do API")
            .version(env!("CARGO_PKG_VERSION"))
            .description(Some(
                "Lists, tasks, files, sharing and notifications. Errors are `application/problem+json`; \
                 authenticate with `Authorization: Bearer <access_token>` from `POST /users` or `POST /sessions`.",
            ))
            .build(),
        utoipa::openapi::Paths::new(),
    );
    for service in services {
        document.merge(service);
    }
    let components = document.components.get_or_insert_with(Default::default);
    components.security_schemes.insert(
        BEARER.to_owned(),
        SecurityScheme::Http(Http::builder().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()).into(),
    );
    for (name, schema) in [("Problem", ProblemSchema::schema()), ("FieldError", FieldErrorSchema::schema())] {
        components.schemas.insert(name.to_owned(), schema);
    }
    for item in document.paths.paths.values_mut() {
        for operation in operations_mut(item) {
            // utoipa leaves `required` unset on parameters built with `schema_with`; a path
            // parameter always is (OpenAPI requires saying so).
            for parameter in operation.parameters.iter_mut().flatten() {
                if let RefOr::T(parameter) = parameter
                    && parameter.parameter_in == ParameterIn::Path
                {
                    parameter.required = Required::True;
                }
            }
            let secured = operation.security.as_ref().is_some_and(|security| !security.is_empty());
            let has_body = operation.request_body.is_some();
            let common = [
                (true, "404", "No such resource, or not yours to see (another person's is a 404 too)."),
                (true, "422", "A parameter or field is invalid; `errors` names each."),
                (true, "500", "A bug; logged, answered opaquely."),
                (
                    true,
                    "503",
                    "A store did not answer in time; nothing was decided. Retry after `Retry-After` seconds (a create with the same `Idempotency-Key`).",
                ),
                (secured, "401", "No valid access token."),
                (has_body, "400", "The body is not a JSON object of the expected shape."),
                (has_body, "413", "The body is larger than 1 MiB."),
                (has_body, "415", "The body is not sent as JSON."),
            ];
            for (applies, status, description) in common {
                if applies {
                    operation.responses.responses.entry(status.to_owned()).or_insert_with(|| problem(description));
                }
            }
            if let Some(RefOr::T(unavailable)) = operation.responses.responses.get_mut("503") {
                let seconds = HeaderBuilder::new()
                    .schema(Some(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1))))
                    .description(Some("Seconds to wait before retrying"))
                    .build();
                unavailable.headers.insert("Retry-After".to_owned(), seconds.into());
            }
            // A route declares its own errors by status and description only: every 4xx and
            // 5xx is a Problem.
            for (status, response) in &mut operation.responses.responses {
                if let RefOr::T(response) = response
                    && (status.starts_with('4') || status.starts_with('5'))
                    && response.content.is_empty()
                {
                    response.content.insert(PROBLEM_MEDIA_TYPE.to_owned(), problem_content().into());
                }
            }
        }
    }
    document
}

/// Every operation of a document, as `(METHOD, path, operationId)`.
pub fn operations(document: &OpenApi) -> Vec<(String, String, Option<String>)> {
    let mut found = Vec::new();
    for (path, item) in &document.paths.paths {
        let methods = [("GET", &item.get), ("PUT", &item.put), ("POST", &item.post), ("DELETE", &item.delete), ("PATCH", &item.patch)];
        for (method, operation) in methods {
            if let Some(operation) = operation {
                found.push((method.to_owned(), path.clone(), operation.operation_id.clone()));
            }
        }
        for other in [&item.options, &item.head, &item.trace, &item.query].into_iter().flatten() {
            found.push(("OTHER".to_owned(), path.clone(), other.operation_id.clone()));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use todo_domain::model::{ContentType, FileName as DomainFileName};

    type Parser = fn(&str) -> bool;

    /// A string schema, ready to check values against: lengths in characters, pattern.
    struct Checked {
        name: &'static str,
        min: Option<u64>,
        max: Option<u64>,
        pattern: Option<regex::Regex>,
        parses: Parser,
    }

    impl Checked {
        fn new(name: &'static str, schema: ObjectBuilder, parses: Parser) -> Self {
            let json = serde_json::to_value(schema.build()).expect("schemas serialise");
            let number = |key: &str| json.get(key).and_then(serde_json::Value::as_u64);
            let pattern = json.get("pattern").and_then(serde_json::Value::as_str).map(|p| regex::Regex::new(p).expect("patterns compile"));
            Self { name, min: number("minLength"), max: number("maxLength"), pattern, parses }
        }

        fn accepts(&self, value: &str) -> bool {
            let length = value.chars().count() as u64;
            self.min.is_none_or(|min| length >= min)
                && self.max.is_none_or(|max| length <= max)
                && self.pattern.as_ref().is_none_or(|p| p.is_match(value))
        }
    }

    fn schemas() -> &'static [Checked] {
        static SCHEMAS: std::sync::LazyLock<Vec<Checked>> = std::sync::LazyLock::new(|| {
            vec![
                Checked::new("title", title(), |s| Title::parse(s).is_ok()),
                Checked::new("notes", notes(), |s| Notes::parse(s).is_ok()),
                Checked::new("list_name", list_name(), |s| ListName::parse(s).is_ok()),
                Checked::new("display_name", display_name(), |s| DisplayName::parse(s).is_ok()),
                Checked::new("file_name", file_name(), |s| DomainFileName::parse(s).is_ok()),
                Checked::new("content_type", content_type(), |s| ContentType::parse(s).is_ok()),
                Checked::new("email", email(), |s| Email::parse(s).is_ok()),
                Checked::new("new_password", new_password(), |s| Password::parse(s).is_ok()),
                Checked::new("given_password", given_password(), |s| Password::for_verification(s).is_ok()),
                Checked::new("tag", tag(), |s| Tag::parse(s).is_ok()),
            ]
        });
        &SCHEMAS
    }

    /// Ordinary text of a length near a limit, with up to three characters the rules care
    /// about (or any character at all) put in at random places.
    fn tricky_text() -> impl Strategy<Value = String> {
        let ordinary = prop_oneof![
            4 => prop::sample::select(vec!['a', 'b', 'Z', '0', '-', '_', ' ', 'é', '💡', '.']),
            1 => prop::sample::select(vec![' ', '.']),
        ];
        let interesting = prop::sample::select(vec![
            ' ',
            '\t',
            '\n',
            '\r',
            '\u{0}',
            '\u{7f}',
            '\u{85}',
            '\u{a0}',
            '\u{200b}',
            '\u{200d}',
            '\u{202e}',
            '\u{2066}',
            '\u{3000}',
            '\u{feff}',
            '/',
            '\\',
            '.',
            '@',
            ',',
            '\u{130}',
            'ａ',
            '\u{fb01}',
            '\u{2126}',
            '\u{301}',
            '\u{591}',
            '\u{592}',
            '\u{1d400}',
            '\u{ff20}',
        ]);
        let odd = prop_oneof![4 => interesting, 1 => any::<char>()];
        // Short strings, and strings around each length limit (32, 64, 100, 128, 200, 254, 255).
        let length = prop_oneof![0usize..12, 30usize..35, 62usize..67, 97usize..103, 126usize..131, 197usize..203, 252usize..258];
        let dots_and_spaces = prop::collection::vec(prop::sample::select(vec![' ', '.']), 0..6);
        let base = prop_oneof![4 => length.prop_flat_map(move |n| prop::collection::vec(ordinary.clone(), n)), 1 => dots_and_spaces];
        (base, prop::collection::vec((any::<prop::sample::Index>(), odd), 0..4)).prop_map(|(mut chars, insertions)| {
            for (at, c) in insertions {
                let at = at.index(chars.len() + 1);
                chars.insert(at, c);
            }
            chars.into_iter().collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// The schema and the parser agree on every string: what one accepts the other does.
        #[test]
        fn string_schemas_state_exactly_what_the_parsers_accept(value in tricky_text()) {
            for schema in schemas() {
                prop_assert_eq!(schema.accepts(&value), (schema.parses)(&value), "{} on {:?}", schema.name, value);
            }
        }

        #[test]
        fn emails_within_the_pattern_parse(local in "[a-zA-Z0-9._%+-]{1,64}", labels in prop::collection::vec("[a-z0-9-]{1,63}", 2..4)) {
            let value = format!("{local}@{}", labels.join("."));
            let email = schemas().iter().find(|schema| schema.name == "email").expect("listed");
            prop_assert_eq!(email.accepts(&value), Email::parse(&value).is_ok(), "{:?}", value);
        }
    }

    #[test]
    fn ids_match_the_pattern_exactly() {
        let pattern = regex::Regex::new(ID_PATTERN).unwrap();
        let id = todo_domain::model::TaskId::generate().to_string();
        assert!(pattern.is_match(&id) && pattern.is_match(&id.to_lowercase()));
        for bad in ["", "8ZZZZZZZZZZZZZZZZZZZZZZZZZ", "01JH8ZQ6V4N3B9Y2C7D5E0F1GU", "01JH8ZQ6V4N3B9Y2C7D5E0F1G"] {
            assert_eq!(pattern.is_match(bad), todo_domain::model::TaskId::parse(bad).is_ok(), "{bad}");
            assert!(!pattern.is_match(bad));
        }
    }

    #[test]
    fn page_limits_are_the_use_cases() {
        let params = serde_json::to_value(PageParams::into_params(|| None)).unwrap();
        let limit = &params[0]["schema"];
        assert_eq!(limit["minimum"], 1);
        assert_eq!(limit["maximum"], todo_domain::usecases::tasks::MAX_PAGE_SIZE);
    }
}
