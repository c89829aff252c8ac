//! `template.yaml` agrees with the code: every operation is deployed as its own function
//! naming an existing binary, with its route, and a policy no wider than its access.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_yaml::Value;
use todo_domain::http::Access;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn template() -> Value {
    let text = std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml");
    serde_yaml::from_str(&text).expect("template.yaml parses")
}

/// A function resource as the template declares it.
#[derive(Debug)]
struct Function {
    logical_id: String,
    binary: String,
    routes: BTreeSet<(String, String)>,
    actions: BTreeSet<String>,
}

fn functions(template: &Value) -> Vec<Function> {
    let resources = template["Resources"].as_mapping().expect("Resources");
    resources
        .iter()
        .filter(|(_, resource)| resource["Type"] == "AWS::Serverless::Function")
        .map(|(id, resource)| {
            let binary = resource["Metadata"]["BuildProperties"]["Binary"].as_str().expect("BuildProperties.Binary").to_owned();
            assert_eq!(resource["Metadata"]["BuildMethod"], "rust-cargolambda");
            let routes = resource["Properties"]["Events"]
                .as_mapping()
                .map(|events| {
                    events
                        .values()
                        .filter(|event| event["Type"] == "HttpApi")
                        .map(|event| {
                            (
                                event["Properties"]["Method"].as_str().unwrap().to_uppercase(),
                                event["Properties"]["Path"].as_str().unwrap().to_owned(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let mut actions = BTreeSet::new();
            for policy in resource["Properties"]["Policies"].as_sequence().expect("inline policies") {
                for statement in policy["Statement"].as_sequence().expect("policy statements") {
                    assert_eq!(statement["Effect"], "Allow");
                    let resource = serde_yaml::to_string(&statement["Resource"]).unwrap();
                    let statement_actions: Vec<&str> =
                        statement["Action"].as_sequence().expect("action list").iter().map(|action| action.as_str().unwrap()).collect();
                    if statement_actions == ["s3:ListBucket"] {
                        assert!(
                            resource.contains("todo-files-") && !resource.contains('*'),
                            "{id:?}: ListBucket only on the bucket, not {resource}"
                        );
                    } else if statement_actions.iter().any(|action| action.starts_with("s3:")) {
                        assert!(
                            resource.trim_end().ends_with("/users/*"),
                            "{id:?}: S3 access must be scoped to the users/ prefix, not {resource}"
                        );
                    }
                    for action in statement["Action"].as_sequence().expect("action list") {
                        actions.insert(action.as_str().unwrap().to_owned());
                    }
                }
            }
            Function { logical_id: id.as_str().unwrap().to_owned(), binary, routes, actions }
        })
        .collect()
}

const READ_ACTIONS: &[&str] = &["dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem", "s3:GetObject"];

#[test]
fn every_operation_is_one_function_with_its_route_and_binary() {
    let template = template();
    let functions = functions(&template);
    let by_binary: BTreeMap<&str, &Function> = functions.iter().map(|f| (f.binary.as_str(), f)).collect();
    assert_eq!(by_binary.len(), functions.len(), "one function per binary");
    let operations: Vec<_> = todo_local::operations().collect();
    for operation in &operations {
        let function = by_binary.get(operation.binary).unwrap_or_else(|| panic!("no function for {operation:?}"));
        let expected = BTreeSet::from([(operation.method.to_string(), operation.path.to_owned())]);
        assert_eq!(function.routes, expected, "{}", function.logical_id);
    }
    let api_functions: Vec<&Function> = functions.iter().filter(|f| !f.routes.is_empty()).collect();
    assert_eq!(api_functions.len(), operations.len(), "every routed function is a served operation");
    for function in &functions {
        assert!(binary_source(&function.binary).is_some(), "{} names binary {} which does not exist", function.logical_id, function.binary);
    }
}

/// The source of the binary `name` in whichever service crate holds it.
fn binary_source(name: &str) -> Option<String> {
    ["users", "tasks", "files", "notifications", "jobs"]
        .iter()
        .find_map(|service| std::fs::read_to_string(root().join(format!("functions/{service}/src/bin/{name}.rs"))).ok())
}

#[test]
fn policies_are_least_privilege_and_never_scan() {
    let template = template();
    let functions = functions(&template);
    for operation in todo_local::operations() {
        let function = functions.iter().find(|f| f.binary == operation.binary).unwrap();
        assert!(!function.actions.is_empty(), "{} has no permissions", function.logical_id);
        for action in &function.actions {
            assert!(!action.contains('*'), "{}: wildcard action {action}", function.logical_id);
            assert!(!action.ends_with(":Scan"), "{}: Scan is never granted", function.logical_id);
        }
        match operation.access {
            Access::Read => assert!(
                function.actions.iter().all(|action| READ_ACTIONS.contains(&action.as_str())),
                "{} only reads but may {:?}",
                function.logical_id,
                function.actions
            ),
            Access::Write => assert!(
                function.actions.iter().any(|action| !READ_ACTIONS.contains(&action.as_str())),
                "{} writes but may not",
                function.logical_id
            ),
        }
    }
}

#[test]
fn functions_run_on_arm64_with_the_table_and_no_secret_literal() {
    let template = template();
    let globals = &template["Globals"]["Function"];
    assert_eq!(globals["Runtime"], "provided.al2023");
    assert_eq!(globals["Architectures"][0], "arm64");
    let variables = &globals["Environment"]["Variables"];
    assert_eq!(variables["TODO_STORE"], "dynamodb");
    assert_eq!(variables["MALLOC_MMAP_THRESHOLD_"], "131072", "password hashing must not grow the heap (docs/bench/README.md)");
    let secret = serde_yaml::to_string(&variables["TODO_TOKEN_SECRET"]).unwrap();
    assert!(secret.contains("{{resolve:secretsmanager:"), "the signing key must come from Secrets Manager, not the template: {secret}");
    let table = &template["Resources"]["Table"]["Properties"];
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(table["TimeToLiveSpecification"]["AttributeName"], "ttl", "the adapters write expiry to `ttl`");
    let keys: Vec<(&str, &str)> = table["KeySchema"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|k| (k["AttributeName"].as_str().unwrap(), k["KeyType"].as_str().unwrap()))
        .collect();
    assert_eq!(keys, [("PK", "HASH"), ("SK", "RANGE")]);
    assert_eq!(table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], true);
    assert_eq!(table["SSESpecification"]["SSEEnabled"], true);
}

#[test]
fn uploads_notify_the_completion_function_without_a_cycle() {
    let template = template();
    let resources = &template["Resources"];
    let bucket = &resources["FilesBucket"]["Properties"];
    let bucket_name = serde_yaml::to_string(&bucket["BucketName"]).unwrap();
    let env_name = serde_yaml::to_string(&template["Globals"]["Function"]["Environment"]["Variables"]["BUCKET_NAME"]).unwrap();
    assert_eq!(bucket_name, env_name, "functions name the bucket as the bucket names itself (no !Ref: that would be circular)");
    assert!(
        bucket["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] == true
            && bucket["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] == true
    );
    assert!(
        bucket["CorsConfiguration"]["CorsRules"][0]["AllowedMethods"].as_sequence().unwrap().iter().any(|m| m == "PUT"),
        "browsers upload straight to S3"
    );
    let uploaded = &resources["FileUploadedFunction"];
    assert_eq!(uploaded["Metadata"]["BuildProperties"]["Binary"], "file-uploaded");
    let event = &uploaded["Properties"]["Events"]["Uploaded"];
    assert_eq!(event["Type"], "S3");
    assert_eq!(event["Properties"]["Events"], "s3:ObjectCreated:*");
    assert_eq!(event["Properties"]["Filter"]["S3Key"]["Rules"][0]["Value"], "users/");
    let policy = serde_yaml::to_string(&resources["FilesBucketPolicy"]).unwrap();
    assert!(policy.contains("aws:SecureTransport"), "TLS-only bucket policy");
}

/// `rate(N unit)` in seconds.
fn rate_seconds(rate: &str) -> u64 {
    let (count, unit) = rate.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')).and_then(|r| r.split_once(' ')).expect("rate(N unit)");
    let unit_seconds = match unit.trim_end_matches('s') {
        "minute" => 60,
        "hour" => 3600,
        "day" => 86_400,
        other => panic!("unknown rate unit {other}"),
    };
    count.parse::<u64>().unwrap() * unit_seconds
}

#[test]
fn every_job_runs_on_a_parameterised_schedule_with_retries() {
    let template = template();
    let resources = template["Resources"].as_mapping().unwrap();
    for job in todo_jobs::JOBS {
        let (id, function) = resources
            .iter()
            .find(|(_, resource)| resource["Metadata"]["BuildProperties"]["Binary"] == job.name)
            .unwrap_or_else(|| panic!("no function runs job {}", job.name));
        let events: Vec<&Value> = function["Properties"]["Events"].as_mapping().expect("events").values().collect();
        assert_eq!(events.len(), 1, "{id:?}: one schedule, no API route");
        let schedule = &events[0];
        assert_eq!(schedule["Type"], "ScheduleV2", "{id:?}");
        let expression = serde_yaml::to_string(&schedule["Properties"]["ScheduleExpression"]).unwrap();
        let parameter =
            expression.trim().strip_prefix("!Ref ").unwrap_or_else(|| panic!("{id:?}: the rate is a parameter, not {expression}"));
        let rate = template["Parameters"][parameter]["Default"].as_str().unwrap();
        assert_eq!(rate_seconds(rate), job.every.as_secs(), "{parameter}: the local server runs {} on the same schedule", job.name);
        assert!(schedule["Properties"]["RetryPolicy"]["MaximumRetryAttempts"].as_u64().unwrap() >= 1, "{id:?}: failed runs retry");
        assert_eq!(schedule["Properties"]["DeadLetterConfig"]["Type"], "SQS", "{id:?}: runs that keep failing are kept");
    }
}

#[test]
fn the_reminders_job_may_read_the_index_and_write_items_only() {
    let template = template();
    let policy = &template["Resources"]["RemindersFunction"]["Properties"]["Policies"][0]["Statement"];
    let statements: Vec<(Vec<&str>, String)> = policy
        .as_sequence()
        .unwrap()
        .iter()
        .map(|statement| {
            let actions = statement["Action"].as_sequence().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
            (actions, serde_yaml::to_string(&statement["Resource"]).unwrap())
        })
        .collect();
    let index = format!("/index/{}", todo_adapters::dynamodb::SCHEDULE_INDEX);
    assert!(statements.iter().any(|(actions, resource)| actions == &["dynamodb:Query"] && resource.contains(&index)), "{statements:?}");
    for (actions, resource) in &statements {
        if !resource.contains(&index) {
            assert_eq!(actions, &["dynamodb:GetItem", "dynamodb:PutItem"], "table access beyond get + conditional put: {actions:?}");
        }
    }
}

#[test]
fn the_table_declares_the_schedule_index_the_adapter_queries() {
    let template = template();
    let table = &template["Resources"]["Table"]["Properties"];
    let index = table["GlobalSecondaryIndexes"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|index| index["IndexName"] == todo_adapters::dynamodb::SCHEDULE_INDEX)
        .expect("the schedule index");
    let keys: Vec<(&str, &str)> = index["KeySchema"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|k| (k["AttributeName"].as_str().unwrap(), k["KeyType"].as_str().unwrap()))
        .collect();
    assert_eq!(keys, [("sched_pk", "HASH"), ("sched_sk", "RANGE")]);
    assert_eq!(index["Projection"]["ProjectionType"], "KEYS_ONLY", "jobs re-read items consistently: the index carries keys only");
}
