//! `template.yaml` agrees with the code: every operation is deployed as its own function
//! naming an existing binary, with its route, and a policy no wider than its access.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_yaml::Value;
use todo_http::Access;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub(crate) fn template() -> Value {
    let text = std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml");
    serde_yaml::from_str(&text).expect("template.yaml parses")
}

/// A function resource as the template declares it.
#[derive(Debug)]
pub(crate) struct Function {
    logical_id: String,
    pub(crate) binary: String,
    routes: BTreeSet<(String, String)>,
    pub(crate) actions: BTreeSet<String>,
}

pub(crate) fn functions(template: &Value) -> Vec<Function> {
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

/// The frontend service's binary: routes that are not API operations.
const WEB: &str = "web";

const READ_ACTIONS: &[&str] =
    &["dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem", "s3:GetObject", "secretsmanager:GetSecretValue"];

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
    let api_functions: Vec<&Function> = functions.iter().filter(|f| !f.routes.is_empty() && f.binary != WEB).collect();
    assert_eq!(api_functions.len(), operations.len(), "every routed function is a served operation");
    // The web app: its page and assets, as the local server mounts them (`{*path}` is API
    // Gateway's `{proxy+}`).
    let web = by_binary.get(WEB).expect("a web function");
    let expected: BTreeSet<(String, String)> =
        todo_web::ROUTES.iter().map(|path| ("GET".to_owned(), path.replace("{*path}", "{proxy+}"))).collect();
    assert_eq!(web.routes, expected);
    assert!(web.actions.is_empty(), "the web function needs no AWS access: {:?}", web.actions);
    for function in &functions {
        assert!(
            binary_service(&function.binary).is_some(),
            "{} names binary {} which does not exist",
            function.logical_id,
            function.binary
        );
    }
}

/// The service crate (`functions/<service>`) that holds the binary `name`.
fn binary_service(name: &str) -> Option<&'static str> {
    ["users", "lists", "tasks", "files", "notifications", "sharing", "jobs", "web"]
        .into_iter()
        .find(|service| root().join(format!("functions/{service}/src/bin/{name}.rs")).exists())
}

/// `sam build` runs `cargo lambda build --release --bin <Binary>` in the function's CodeUri,
/// with no `-p`: from the workspace root cargo would look in the default member (the local
/// server) only, so each function builds from its own service crate, which also keeps the
/// embedded store (a feature only the local server turns on) out of Lambda binaries.
#[test]
fn every_function_builds_from_the_service_crate_holding_its_binary() {
    let template = template();
    for (id, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap();
        let service = binary_service(binary).unwrap();
        assert_eq!(resource["Properties"]["CodeUri"], format!("functions/{service}").as_str(), "{id:?}");
        let manifest = std::fs::read_to_string(root().join(format!("functions/{service}/Cargo.toml"))).unwrap();
        assert!(!manifest.contains("embedded"), "functions/{service} must not enable the embedded store");
    }
}

/// `sam local invoke --env-vars FILE` silently drops any variable the template does not
/// declare: each one in `infra/events/env.json` must be declared, or a local invoke would
/// reach real AWS instead of the emulator it names.
#[test]
fn every_variable_of_the_local_env_file_is_declared_for_every_function() {
    let template = template();
    let globals = template["Globals"]["Function"]["Environment"]["Variables"].as_mapping().expect("global variables");
    let env: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("infra/events/env.json")).unwrap()).expect("env.json parses");
    let parameters = env["Parameters"].as_object().expect("env.json sets Parameters for every function");
    assert!(parameters.contains_key("AWS_ENDPOINT_URL") && parameters.contains_key("TODO_S3_PATH_STYLE"), "{parameters:?}");
    for name in parameters.keys() {
        assert!(globals.contains_key(name.as_str()), "env.json sets {name}, which the template does not declare: SAM would drop it");
    }
    // A function's own section: variables that function declares.
    for (function, variables) in env.as_object().unwrap().iter().filter(|(key, _)| *key != "Parameters") {
        let declared = &template["Resources"][function.as_str()]["Properties"]["Environment"]["Variables"];
        for name in variables.as_object().unwrap_or_else(|| panic!("env.json's {function} is not an object")).keys() {
            assert!(
                declared.get(name.as_str()).is_some(),
                "env.json sets {name} for {function}, which does not declare it: SAM would drop it"
            );
        }
    }
    // Declared empty: the config code reads an empty value as unset, so AWS is unaffected.
    assert_eq!(globals["AWS_ENDPOINT_URL"], "");
    assert_eq!(globals["TODO_S3_PATH_STYLE"], "false");
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
    assert_eq!(serde_yaml::to_string(&globals["Architectures"][0]).unwrap().trim(), "!Ref Architecture");
    assert_eq!(template["Parameters"]["Architecture"]["Default"], "arm64", "arm64 unless asked (x86_64 is for local runs)");
    let variables = &globals["Environment"]["Variables"];
    assert_eq!(variables["TODO_STORE"], "dynamodb");
    assert_eq!(variables["MALLOC_MMAP_THRESHOLD_"], "131072", "password hashing must not grow the heap (docs/bench/README.md)");
    // The keys are read from the secret at cold start, never put in a function's configuration.
    assert_eq!(serde_yaml::to_string(&variables["TODO_TOKEN_SECRET_ID"]).unwrap().trim(), "!Ref TokenSecret");
    let text = std::fs::read_to_string(root().join("template.yaml")).unwrap();
    assert!(!text.contains("{{resolve:secretsmanager"), "no secret is resolved into the template");
    for (id, resource) in template["Resources"].as_mapping().unwrap() {
        let own = &resource["Properties"]["Environment"]["Variables"];
        assert!(
            own.get("TODO_TOKEN_SECRET").is_none() && variables.get("TODO_TOKEN_SECRET").is_none(),
            "{id:?} holds the keys in its environment"
        );
    }
    // A rotation reaches every warm function only if the functions' configuration changes
    // (new execution environments read the secret again), and a new version behind the alias
    // only if that change is a literal (SAM hashes a version's environment before
    // substituting parameters).
    assert!(variables["TODO_TOKEN_KEY_REVISION"].is_string(), "a literal, not a reference: {:?}", variables["TODO_TOKEN_KEY_REVISION"]);
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
    assert_eq!(table["SSESpecification"]["SSEEnabled"], false, "encrypted with the free AWS-owned key, not a billed KMS key");
}

/// Every HTTP function verifies tokens, so it may read the signing keys' secret, and only
/// that secret; functions driven by events use no keys and may not read it.
#[test]
fn only_functions_that_verify_tokens_may_read_the_signing_keys() {
    let template = template();
    for (id, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        // The web function serves the app's files: no tokens, no keys.
        let routed =
            resource["Properties"]["Events"].as_mapping().is_some_and(|events| events.values().any(|event| event["Type"] == "HttpApi"))
                && resource["Metadata"]["BuildProperties"]["Binary"] != WEB;
        let grants: Vec<String> = resource["Properties"]["Policies"]
            .as_sequence()
            .unwrap()
            .iter()
            .flat_map(|policy| policy["Statement"].as_sequence().unwrap())
            .filter(|statement| serde_yaml::to_string(&statement["Action"]).unwrap().contains("secretsmanager:"))
            .map(|statement| {
                assert_eq!(serde_yaml::to_string(&statement["Action"]).unwrap().trim(), "- secretsmanager:GetSecretValue", "{id:?}");
                serde_yaml::to_string(&statement["Resource"]).unwrap().trim().to_owned()
            })
            .collect();
        let expected: Vec<String> = if routed { vec!["!Ref TokenSecret".to_owned()] } else { Vec::new() };
        assert_eq!(grants, expected, "{id:?}");
    }
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

/// The last net for abandoned uploads: the bucket expires objects still carrying the tag
/// every upload URL puts on its object, late enough that no upload on its way to becoming a
/// file (the URL's life, housekeeping's grace, then its next run) is taken; browsers may send
/// the tag header; the signer may tag, and whoever records an arrival may untag.
#[test]
fn abandoned_uploads_expire_and_recorded_ones_do_not() {
    let template = template();
    let resources = &template["Resources"];
    let bucket = &resources["FilesBucket"]["Properties"];
    let (tag, value) = todo_adapters::s3::PENDING_UPLOAD_TAG;
    let rules = bucket["LifecycleConfiguration"]["Rules"].as_sequence().unwrap();
    let rule = rules.iter().find(|rule| rule["Id"] == "abandoned-uploads").expect("an abandoned-uploads rule");
    assert_eq!(rule["Status"], "Enabled");
    assert_eq!(rule["TagFilters"].as_sequence().unwrap().len(), 1);
    assert_eq!((&rule["TagFilters"][0]["Key"], &rule["TagFilters"][0]["Value"]), (&Value::from(tag), &Value::from(value)));
    let expires_after = rule["ExpirationInDays"].as_u64().unwrap() * 24 * 3600;
    let limits = todo_domain::app::FileLimits::default();
    let housekeeping = rate_seconds(template["Parameters"]["HousekeepingSchedule"]["Default"].as_str().unwrap());
    let latest_recorded = limits.upload_url_seconds + limits.stale_upload_grace_seconds + housekeeping;
    assert!(expires_after > latest_recorded + 12 * 3600, "{expires_after} s leaves too little room after {latest_recorded} s");
    let allowed = bucket["CorsConfiguration"]["CorsRules"][0]["AllowedHeaders"].as_sequence().unwrap();
    assert!(allowed.iter().any(|header| header == "x-amz-tagging"), "a browser's upload sends the tag header");

    let s3_actions = |binary: &str| -> Vec<String> {
        let (_, function) = resources
            .as_mapping()
            .unwrap()
            .iter()
            .find(|(_, resource)| resource["Metadata"]["BuildProperties"]["Binary"] == binary)
            .unwrap_or_else(|| panic!("no function {binary}"));
        function["Properties"]["Policies"]
            .as_sequence()
            .unwrap()
            .iter()
            .flat_map(|policy| policy["Statement"].as_sequence().unwrap())
            .flat_map(|statement| statement["Action"].as_sequence().cloned().unwrap_or_default())
            .filter_map(|action| action.as_str().filter(|action| action.starts_with("s3:")).map(str::to_owned))
            .collect()
    };
    assert!(s3_actions("file-upload-url").contains(&"s3:PutObjectTagging".to_owned()), "S3 refuses x-amz-tagging otherwise");
    for recorder in ["file-uploaded", "housekeeping"] {
        assert!(s3_actions(recorder).contains(&"s3:DeleteObjectTagging".to_owned()), "{recorder} keeps what it records");
    }
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
        assert!(schedule["Properties"]["RetryPolicy"]["MaximumRetryAttempts"].as_u64().unwrap() >= 1, "{id:?}: failed deliveries retry");
        assert_eq!(
            failure_queue(&schedule["Properties"]["DeadLetterConfig"]["Arn"]),
            "FailedRunsQueue",
            "{id:?}: undelivered runs are kept"
        );
        assert_eq!(schedule["Properties"]["OmitName"], true, "{id:?}: a fixed schedule name collides with a second stack");
        let invoke = &function["Properties"]["EventInvokeConfig"];
        assert_eq!(
            failure_queue(&invoke["DestinationConfig"]["OnFailure"]["Destination"]),
            "FailedRunsQueue",
            "{id:?}: the scheduler invokes asynchronously, so a failed run is kept only by an on-failure destination"
        );
    }
    let reminders = &template["Resources"]["RemindersFunction"]["Properties"]["EventInvokeConfig"];
    assert_eq!(reminders["MaximumRetryAttempts"], 0, "the next reminders run is its retry");
}

/// The logical id a `!GetAtt X.Arn` names.
fn failure_queue(arn: &Value) -> String {
    let text = serde_yaml::to_string(arn).unwrap();
    text.trim()
        .strip_prefix("!GetAtt ")
        .and_then(|rest| rest.strip_suffix(".Arn"))
        .unwrap_or_else(|| panic!("not a !GetAtt X.Arn: {text}"))
        .to_owned()
}

#[test]
fn failed_upload_events_are_retried_then_kept() {
    let template = template();
    let invoke = &template["Resources"]["FileUploadedFunction"]["Properties"]["EventInvokeConfig"];
    assert!(invoke["MaximumRetryAttempts"].as_u64().unwrap() >= 1);
    assert_eq!(failure_queue(&invoke["DestinationConfig"]["OnFailure"]["Destination"]), "FailedRunsQueue");
    assert_eq!(template["Resources"]["FailedRunsQueue"]["Type"], "AWS::SQS::Queue");
}

#[test]
fn the_reminders_worker_may_read_the_index_and_write_items_only() {
    let template = template();
    let policy = &template["Resources"]["ReminderShardFunction"]["Properties"]["Policies"][0]["Statement"];
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
    // (Its queue's polling actions are held to its queue in the fan-out test.)
    for (actions, resource) in statements.iter().filter(|(actions, _)| actions.iter().all(|action| action.starts_with("dynamodb:"))) {
        if !resource.contains(&index) {
            assert_eq!(actions, &["dynamodb:GetItem", "dynamodb:PutItem"], "table access beyond get + conditional put: {actions:?}");
        }
    }
}

/// The reminders job fans out: its scheduled function may only send to the shards queue,
/// whose every message invokes one worker, once (a failed shard goes to the failed-runs
/// queue, the next minute retries it), and every shard runs at once.
#[test]
fn the_reminders_job_sends_one_message_per_shard_to_its_own_workers() {
    let template = template();
    let resources = &template["Resources"];
    let dispatcher = &resources["RemindersFunction"]["Properties"];
    assert_eq!(
        serde_yaml::to_string(&dispatcher["Environment"]["Variables"]["TODO_REMINDER_QUEUE_URL"]).unwrap().trim(),
        "!Ref ReminderShardsQueue"
    );
    let statements = dispatcher["Policies"][0]["Statement"].as_sequence().unwrap();
    assert_eq!(statements.len(), 1, "the dispatcher reads and writes no table: {statements:?}");
    assert_eq!(statements[0]["Action"].as_sequence().unwrap(), &[Value::from("sqs:SendMessage")]);
    assert_eq!(failure_queue(&statements[0]["Resource"]), "ReminderShardsQueue");

    let queue = &resources["ReminderShardsQueue"]["Properties"];
    assert_eq!(failure_queue(&queue["RedrivePolicy"]["deadLetterTargetArn"]), "FailedRunsQueue");
    assert_eq!(queue["RedrivePolicy"]["maxReceiveCount"], 1, "the next minute's message is the retry");
    let worker = &resources["ReminderShardFunction"]["Properties"];
    let timeout = worker["Timeout"].as_u64().unwrap();
    let visibility = queue["VisibilityTimeout"].as_u64().unwrap();
    assert!(visibility >= timeout, "Lambda refuses a queue that hides a message for less than the function's timeout");
    // A failed message moves to the failed-runs queue only when received again, after its
    // visibility timeout: it must still be kept then, well past the age a worker skips.
    let retention = queue["MessageRetentionPeriod"].as_u64().unwrap();
    let stale = todo_jobs::fan_out::STALE_AFTER.as_secs();
    assert!(retention >= visibility + stale * 2, "retention {retention} s");
    assert!(stale > visibility, "a throttled invocation Lambda retries within the visibility timeout runs, not skipped");
    let age_alarm = &resources["ReminderShardsAgeAlarm"]["Properties"];
    let threshold = age_alarm["Threshold"].as_u64().unwrap();
    assert!(
        threshold > visibility && threshold < stale,
        "the age alarm sees a message nobody takes before it is skipped, and never a failed one in flight"
    );
    assert!(timeout > todo_domain::usecases::reminders::Fairness::default().run_for.as_secs() + 20, "a worker's passes fit its timeout");
    assert!(worker.get("Events").is_none(), "the mapping below feeds it (a SAM SQS event attaches a poller policy for every queue)");
    let mapping = &resources["ReminderShardsMapping"];
    assert_eq!(mapping["Type"], "AWS::Lambda::EventSourceMapping");
    let shards = &mapping["Properties"];
    assert_eq!(failure_queue(&shards["EventSourceArn"]), "ReminderShardsQueue");
    assert_eq!(
        serde_yaml::to_string(&shards["FunctionName"]).unwrap().trim(),
        "!Ref ReminderShardFunction.Alias",
        "the live alias, as SAM's events use"
    );
    let polls: Vec<String> = worker["Policies"][0]["Statement"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter(|statement| serde_yaml::to_string(&statement["Action"]).unwrap().contains("sqs:"))
        .map(|statement| {
            assert_eq!(failure_queue(&statement["Resource"]), "ReminderShardsQueue", "polling on its own queue only");
            serde_yaml::to_string(&statement["Action"]).unwrap()
        })
        .collect();
    assert_eq!(polls.len(), 1, "{polls:?}");
    for action in ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"] {
        assert!(polls[0].contains(action), "the mapping polls with {action}");
    }
    assert!(
        worker.get("ReservedConcurrentExecutions").is_none(),
        "MaximumConcurrency caps the workers; a smaller reservation would throttle shards"
    );
    assert_eq!(shards["BatchSize"], 1, "one shard per invocation");
    assert_eq!(shards["FunctionResponseTypes"][0], "ReportBatchItemFailures");
    assert_eq!(
        shards["ScalingConfig"]["MaximumConcurrency"].as_u64(),
        // (MaximumConcurrency is at least 2.)
        template["Globals"]["Function"]["Environment"]["Variables"]["TODO_ALARM_SHARDS"]
            .as_str()
            .and_then(|n| n.parse::<u64>().ok())
            .map(|shards| shards.max(2)),
        "every shard's worker at once: as many as TODO_ALARM_SHARDS (a literal: a parameter would not reach the `live` alias)"
    );
}

/// The table's index `name` as the template declares it: its key schema (attribute, key
/// type) and its projection type.
fn declared_index(template: &Value, name: &str) -> (Vec<(String, String)>, String) {
    let table = &template["Resources"]["Table"]["Properties"];
    let index = table["GlobalSecondaryIndexes"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|index| index["IndexName"] == name)
        .unwrap_or_else(|| panic!("the {name} index"));
    let keys = index["KeySchema"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|k| (k["AttributeName"].as_str().unwrap().to_owned(), k["KeyType"].as_str().unwrap().to_owned()))
        .collect();
    (keys, index["Projection"]["ProjectionType"].as_str().unwrap().to_owned())
}

fn pairs(keys: &[(&str, &str)]) -> Vec<(String, String)> {
    keys.iter().map(|(name, kind)| ((*name).to_owned(), (*kind).to_owned())).collect()
}

#[test]
fn the_table_declares_the_schedule_index_the_adapter_queries() {
    let (keys, projection) = declared_index(&template(), todo_adapters::dynamodb::SCHEDULE_INDEX);
    assert_eq!(keys, pairs(&[("sched_pk", "HASH"), ("sched_sk", "RANGE")]));
    assert_eq!(projection, "KEYS_ONLY", "jobs re-read items consistently: the index carries keys only");
}

/// `?status=open` reads the sparse `open` index (whole tasks: no second read per page), and
/// the two functions that page tasks may query it — nothing else may.
#[test]
fn the_open_tasks_index_is_declared_and_only_the_task_pages_query_it() {
    let template = template();
    let (keys, projection) = declared_index(&template, todo_adapters::dynamodb::OPEN_INDEX);
    assert_eq!(keys, pairs(&[("open_pk", "HASH"), ("open_sk", "RANGE")]));
    assert_eq!(projection, "ALL");
    let resource = format!("${{Table.Arn}}/index/{}", todo_adapters::dynamodb::OPEN_INDEX);
    let mut readers = Vec::new();
    for (name, function) in template["Resources"].as_mapping().unwrap() {
        let text = serde_yaml::to_string(&function["Properties"]["Policies"]).unwrap();
        if text.contains(&resource) {
            readers.push(name.as_str().unwrap().to_owned());
        }
    }
    readers.sort();
    assert_eq!(readers, ["TaskListFunction", "TaskSearchFunction"]);
}

/// Account deletion answers 202 and leaves the cascade to `account-purge`, which the table's
/// stream wakes for each new deletion marker (and only those), with retries and a failure
/// queue; the request's function keeps no S3 access.
#[test]
fn account_deletion_continues_off_the_request_path() {
    let template = template();
    let resources = &template["Resources"];
    assert_eq!(resources["Table"]["Properties"]["StreamSpecification"]["StreamViewType"], "KEYS_ONLY");
    let purge = &resources["AccountPurgeFunction"];
    assert_eq!(purge["Metadata"]["BuildProperties"]["Binary"], "account-purge");
    let event = &purge["Properties"]["Events"]["DeletionMarkers"];
    assert_eq!(event["Type"], "DynamoDB");
    assert_eq!(serde_yaml::to_string(&event["Properties"]["Stream"]).unwrap().trim(), "!GetAtt Table.StreamArn");
    let pattern: serde_json::Value =
        serde_json::from_str(event["Properties"]["FilterCriteria"]["Filters"][0]["Pattern"].as_str().unwrap()).unwrap();
    assert_eq!(pattern["eventName"], serde_json::json!(["INSERT"]));
    assert_eq!(pattern["dynamodb"]["Keys"]["PK"]["S"], serde_json::json!([todo_adapters::dynamodb::DELETIONS]));
    assert!(event["Properties"]["MaximumRetryAttempts"].as_u64().unwrap() >= 1);
    assert_eq!(failure_queue(&event["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]), "FailedRunsQueue");
    let functions = functions(&template);
    let delete_me = functions.iter().find(|f| f.binary == "user-me-delete").unwrap();
    // The objects go in the purge, not on the request path.
    assert!(!delete_me.actions.iter().any(|action| action.starts_with("s3:")), "{:?}", delete_me.actions);
    let purge = functions.iter().find(|f| f.binary == "account-purge").unwrap();
    assert!(purge.actions.contains("s3:DeleteObject") && !purge.actions.iter().any(|a| a.ends_with(":Scan")), "{:?}", purge.actions);
}

/// New invitations reach `invitation-announce` from the table stream (the invitee copies'
/// inserts, and only those), with retries and a failure queue; it reads and writes the table
/// and nothing else (no signing keys, no S3).
#[test]
fn invitations_are_announced_off_the_request_path() {
    let template = template();
    let announce = &template["Resources"]["InvitationAnnounceFunction"];
    let event = &announce["Properties"]["Events"]["NewInvitations"];
    assert_eq!(event["Type"], "DynamoDB");
    assert_eq!(serde_yaml::to_string(&event["Properties"]["Stream"]).unwrap().trim(), "!GetAtt Table.StreamArn");
    let pattern: serde_json::Value =
        serde_json::from_str(event["Properties"]["FilterCriteria"]["Filters"][0]["Pattern"].as_str().unwrap()).unwrap();
    assert_eq!(pattern["eventName"], serde_json::json!(["INSERT"]));
    assert_eq!(pattern["dynamodb"]["Keys"]["PK"]["S"], serde_json::json!([{"prefix": todo_adapters::dynamodb::INVITEE_PREFIX}]));
    assert!(event["Properties"]["MaximumRetryAttempts"].as_u64().unwrap() >= 1);
    assert_eq!(failure_queue(&event["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]), "FailedRunsQueue");
    let functions = functions(&template);
    let announce = functions.iter().find(|f| f.binary == "invitation-announce").unwrap();
    let expected: BTreeSet<String> =
        ["dynamodb:GetItem", "dynamodb:ConditionCheckItem", "dynamodb:PutItem"].into_iter().map(str::to_owned).collect();
    assert_eq!(announce.actions, expected);
}

/// The service (crate folder) a function resource builds from.
fn service_of(resource: &Value) -> String {
    resource["Properties"]["CodeUri"].as_str().unwrap().trim_start_matches("functions/").to_owned()
}

fn capitalised(service: &str) -> String {
    let mut chars = service.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// Every function is watched: its service's error, throttle and duration alarms name it
/// (duration against its own timeout), every alarm notifies the topic, and the error alarms
/// roll a deployment back.
#[test]
fn every_function_is_in_its_service_alarms() {
    let template = template();
    let resources = template["Resources"].as_mapping().unwrap();
    let timeout_default = template["Globals"]["Function"]["Timeout"].as_u64().unwrap();
    for (id, resource) in resources.iter().filter(|(_, r)| r["Type"] == "AWS::Serverless::Function") {
        let id = id.as_str().unwrap();
        let service = capitalised(&service_of(resource));
        let timeout_ms = resource["Properties"]["Timeout"].as_u64().unwrap_or(timeout_default) * 1000;
        // Errors and throttles summed per service; p99 duration against 80% of the timeout:
        // per service for the 10 s routes (one MAX), alone for the long-running functions.
        let duration = if timeout_ms == 10_000 { format!("{service}Duration") } else { id.replace("Function", "Duration") };
        for (alarm, kind) in [(format!("{service}Errors"), "Errors"), (format!("{service}Throttles"), "Throttles"), (duration, "Duration")]
        {
            let alarm = &template["Resources"][format!("{alarm}Alarm").as_str()];
            assert_eq!(alarm["Type"], "AWS::CloudWatch::Alarm", "{id}: no {kind} alarm");
            let properties = &alarm["Properties"];
            let Some(queries) = properties["Metrics"].as_sequence() else {
                assert_eq!(serde_yaml::to_string(&properties["Dimensions"][0]["Value"]).unwrap().trim(), format!("!Ref {id}"));
                assert_eq!(properties["MetricName"], kind);
                assert_eq!(properties["Threshold"].as_u64(), Some(timeout_ms * 8 / 10), "{id}");
                continue;
            };
            let named: Vec<&Value> = queries
                .iter()
                .filter(|query| {
                    serde_yaml::to_string(&query["MetricStat"]["Metric"]["Dimensions"][0]["Value"]).unwrap().trim() == format!("!Ref {id}")
                })
                .collect();
            assert_eq!(named.len(), 1, "{id} is named once in its {kind} alarm");
            assert_eq!(named[0]["MetricStat"]["Metric"]["MetricName"], kind);
            let query_id = named[0]["Id"].as_str().unwrap();
            let expression = queries.iter().find_map(|query| query["Expression"].as_str()).unwrap();
            assert!(expression.split(['[', ',', ']']).any(|part| part == query_id), "{id}: {expression} lacks {query_id}");
            if kind == "Duration" {
                assert_eq!(properties["Threshold"].as_u64(), Some(timeout_ms * 8 / 10), "{id}");
            }
        }
        // The reminders workers are capped by their queue's mapping instead (tested above).
        if id != "ReminderShardFunction" {
            let reserved = serde_yaml::to_string(&resource["Properties"]["ReservedConcurrentExecutions"]).unwrap();
            assert!(
                reserved.contains(&format!("Reserve{service}")) && reserved.contains(&format!("{service}Concurrency")),
                "{id}: {reserved}"
            );
        }
    }
    let globals = &template["Globals"]["Function"];
    assert_eq!(globals["AutoPublishAlias"], "live");
    let rollback = serde_yaml::to_string(&globals["DeploymentPreference"]["Alarms"]).unwrap();
    for service in ["Users", "Lists", "Tasks", "Files", "Notifications", "Sharing", "Jobs", "Web"] {
        assert!(rollback.contains(&format!("{service}ErrorsAlarm")), "a failing {service} deployment rolls back: {rollback}");
    }
    for (id, resource) in resources.iter().filter(|(_, r)| r["Type"] == "AWS::CloudWatch::Alarm") {
        let actions = serde_yaml::to_string(&resource["Properties"]["AlarmActions"]).unwrap();
        assert!(actions.contains("AlarmTopic"), "{id:?} notifies nobody");
        // CloudWatch's hard limit: a metric math alarm reads at most 10 metrics (a service
        // with more functions needs its alarm split).
        let metrics = resource["Properties"]["Metrics"]
            .as_sequence()
            .map_or(0, |queries| queries.iter().filter(|query| !query["MetricStat"].is_null()).count());
        assert!(metrics <= 10, "{id:?} reads {metrics} metrics: CloudWatch refuses more than 10");
    }
}

/// The password routes are throttled apart from the rest (argon2 is the expensive part), and
/// every request is logged in JSON.
#[test]
fn the_api_logs_requests_and_holds_password_floods_at_the_gateway() {
    let template = template();
    let api = &template["Resources"]["HttpApi"]["Properties"];
    for route in ["POST /users", "POST /sessions", "PATCH /users/me", "DELETE /users/me"] {
        let settings = &api["RouteSettings"][route];
        let rate = serde_yaml::to_string(&settings["ThrottlingRateLimit"]).unwrap();
        assert_eq!(rate.trim(), "!Ref PasswordRouteRateLimit", "{route}");
    }
    let format: serde_json::Value = serde_json::from_str(api["AccessLogSettings"]["Format"].as_str().unwrap()).expect("JSON access logs");
    for field in ["requestId", "routeKey", "status", "latencyMs"] {
        assert!(format.get(field).is_some(), "access log lacks {field}");
    }
}

/// Each function's memory is the size `cargo xtask bench` chose for it from its measured CPU
/// and round trips (docs/bench/functions.json, `memory_mb`): re-run the benchmark, then set
/// the template to what it reports.
#[test]
fn every_functions_memory_is_the_size_the_benchmark_chose() {
    let template = template();
    let measured: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("docs/bench/functions.json")).expect("docs/bench/functions.json"))
            .expect("functions.json parses");
    let chosen: BTreeMap<&str, u64> = measured["functions"]
        .as_array()
        .expect("functions")
        .iter()
        .filter_map(|row| Some((row["function"].as_str()?, row["memory_mb"].as_u64()?)))
        .collect();
    let default = template["Globals"]["Function"]["MemorySize"].as_u64().expect("a default MemorySize");
    let mut mismatches = Vec::new();
    for (id, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap();
        let declared = match &resource["Properties"]["MemorySize"] {
            Value::Null => default,
            size => size.as_u64().unwrap_or_else(|| panic!("{id:?}: MemorySize must be a number, not {size:?}")),
        };
        match chosen.get(binary) {
            Some(size) if *size == declared => {}
            Some(size) => mismatches.push(format!("{id:?} ({binary}): {declared} MB, the benchmark chose {size}")),
            None => mismatches.push(format!("{id:?} ({binary}): not measured by the last full `cargo xtask bench`")),
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}
