//! The OpenAPI document (`GET /openapi.json`): generated from the handlers, one path item per
//! operation of the operation table, and the copy in `docs/openapi.json` current.
//! schemathesis checks the routes against it (`cargo xtask fuzz`, quick in `cargo xtask test`).

use std::collections::BTreeSet;

use axum::body::Body;
use http::{Request, StatusCode};

use crate::support::TestApp;

fn docs_copy() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

#[test]
fn every_operation_has_exactly_one_path_item_and_every_path_item_an_operation() {
    let table: Vec<(String, String, Option<String>)> =
        todo_local::operations().map(|op| (op.method.to_string(), op.path.to_owned(), Some(op.binary.to_owned()))).collect();
    let documented = todo_http::openapi::operations(&todo_local::openapi());
    let table_set: BTreeSet<_> = table.iter().cloned().collect();
    let documented_set: BTreeSet<_> = documented.iter().cloned().collect();
    assert_eq!(table.len(), table_set.len(), "the operation table repeats a route");
    assert_eq!(documented.len(), documented_set.len(), "the document repeats an operation");
    let undocumented: Vec<_> = table_set.difference(&documented_set).collect();
    let unserved: Vec<_> = documented_set.difference(&table_set).collect();
    assert!(
        undocumented.is_empty() && unserved.is_empty(),
        "operations without a matching #[utoipa::path] (method, path, operation_id = binary): {undocumented:?}; \
         documented but not in the table: {unserved:?}"
    );
}

#[test]
fn every_operation_documents_its_errors_as_problems_and_its_security() {
    let document = serde_json::to_value(todo_local::openapi()).unwrap();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        response["content"]["application/problem+json"]["schema"]["$ref"] == "#/components/schemas/Problem",
                        "{method} {path} {status} is not a Problem"
                    );
                }
            }
            assert!(responses.keys().any(|status| status.starts_with('2')), "{method} {path} has no success response");
            let secured = operation.get("security").is_some();
            let public = ["/users", "/sessions", "/sessions/refresh"].contains(&path.as_str()) && method == "post";
            assert_eq!(secured, !public, "{method} {path}: every route but sign-up, log-in and refresh needs a bearer token");
            assert!(responses.contains_key("401") || !secured, "{method} {path} takes a token but documents no 401");
        }
    }
}

#[tokio::test]
async fn the_server_serves_the_document_and_docs_holds_the_same() {
    let app = TestApp::spawn();
    let reply = app.send(Request::get("/openapi.json").body(Body::empty()).unwrap()).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.body["openapi"], "3.1.0");
    let generated = todo_local::openapi_json();
    assert_eq!(generated, todo_local::openapi_json(), "the same code prints the same document");
    assert_eq!(reply.body, serde_json::from_str::<serde_json::Value>(&generated).unwrap());
    if std::env::var_os("TODO_UPDATE_OPENAPI").is_some() {
        std::fs::write(docs_copy(), &generated).unwrap();
    }
    let copy = std::fs::read_to_string(docs_copy()).unwrap_or_default();
    assert!(
        copy == generated,
        "docs/openapi.json is not the document the code generates: run `TODO_UPDATE_OPENAPI=1 cargo nextest run -p todo-local openapi` and commit it"
    );
}
