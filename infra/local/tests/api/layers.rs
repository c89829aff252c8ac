//! The crates' dependencies keep the architecture's layers (ARCHITECTURE.md, "Invariants"):
//! the domain knows no transport and no cloud, the HTTP glue no store.

use std::path::Path;

/// The names of a crate's normal dependencies, read from its manifest.
fn dependencies(manifest: &str) -> Vec<String> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(manifest)).unwrap();
    let section = text.split("\n[dependencies]\n").nth(1).expect("a [dependencies] section");
    let section = section.split("\n[").next().unwrap_or_default();
    section
        .lines()
        .filter_map(|line| line.split(['=', '.']).next())
        .map(str::trim)
        .filter(|name| !name.is_empty() && !name.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_domain_depends_on_no_web_framework_and_no_cloud_sdk() {
    let domain = dependencies("functions/domain/Cargo.toml");
    assert!(domain.contains(&"serde".to_owned()), "the manifest was read: {domain:?}");
    let forbidden: Vec<&String> = domain
        .iter()
        .filter(|name| {
            ["axum", "http", "hyper", "lambda_http", "lambda_runtime", "tower"].contains(&name.as_str()) || name.starts_with("aws-")
        })
        .collect();
    assert!(forbidden.is_empty(), "todo-domain depends on {forbidden:?}: transport and cloud belong in todo-http and todo-adapters");
}

#[test]
fn the_http_glue_depends_on_no_store() {
    let glue = dependencies("functions/http/Cargo.toml");
    assert!(glue.contains(&"todo-domain".to_owned()), "{glue:?}");
    assert!(!glue.iter().any(|name| name.starts_with("aws-") || name == "rusqlite" || name == "todo-adapters"), "{glue:?}");
}
