//! The crates' dependencies keep the architecture's layers (ARCHITECTURE.md, "Invariants"):
//! the domain knows no transport and no cloud, the HTTP glue no store. Checked on the
//! resolved graph (Cargo.lock), so an indirect or renamed dependency counts too.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each package of Cargo.lock and the names of its dependencies.
fn lock_graph(lock: &str) -> BTreeMap<String, Vec<String>> {
    lock.split("[[package]]")
        .skip(1)
        .filter_map(|block| {
            let name = block.lines().find_map(|line| line.strip_prefix("name = \""))?.trim_end_matches('"').to_owned();
            let dependencies = block
                .split("dependencies = [")
                .nth(1)
                .map(|list| {
                    list.split(']')
                        .next()
                        .unwrap_or_default()
                        .split('"')
                        .skip(1)
                        .step_by(2)
                        .map(|entry| entry.split(' ').next().unwrap_or_default().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            Some((name, dependencies))
        })
        .collect()
}

/// Everything `root` pulls in through the lock file, leaving out `excluded` subtrees
/// (dev-dependencies, which the lock file does not tell apart).
fn reachable(graph: &BTreeMap<String, Vec<String>>, root: &str, excluded: &[&str]) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut next = vec![root.to_owned()];
    while let Some(name) = next.pop() {
        if excluded.contains(&name.as_str()) || !seen.insert(name.clone()) {
            continue;
        }
        next.extend(graph.get(&name).into_iter().flatten().cloned());
    }
    seen
}

fn transport_or_cloud(name: &str) -> bool {
    ["axum", "http", "hyper", "tower", "lambda_", "aws-sdk-", "aws-smithy-", "aws-config", "aws_lambda_events", "aws-sigv4"]
        .iter()
        .any(|prefix| name.starts_with(prefix))
}

#[test]
fn nothing_the_domain_pulls_in_is_a_web_framework_or_a_cloud_sdk() {
    let lock = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.lock")).unwrap();
    let graph = lock_graph(&lock);
    // The check can fail: the glue's own closure does hold axum and http.
    assert!(reachable(&graph, "todo-http", &[]).iter().any(|name| transport_or_cloud(name)));
    let domain = reachable(&graph, "todo-domain", &["proptest"]);
    assert!(domain.len() > 20, "the domain's dependencies were found: {domain:?}");
    let offending: Vec<&String> = domain.iter().filter(|name| transport_or_cloud(name)).collect();
    assert!(offending.is_empty(), "todo-domain pulls in {offending:?}: transport and cloud belong in todo-http and todo-adapters");
}

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
fn the_http_glue_depends_on_no_store() {
    let glue = dependencies("functions/http/Cargo.toml");
    assert!(glue.contains(&"todo-domain".to_owned()), "{glue:?}");
    assert!(!glue.iter().any(|name| name.starts_with("aws-") || name == "rusqlite" || name == "todo-adapters"), "{glue:?}");
}
