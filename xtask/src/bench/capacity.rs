//! `docs/bench/capacity.md`: what 10k, 100k and 1M active people cost a month on AWS and
//! which quota they reach first — from the function benchmark's per-call figures
//! (`functions.json`: each function's chosen memory, modelled duration and cost per million
//! calls), the reminders benchmark's per-alarm figures (`reminders.json`) and the usage
//! profile below. `cargo xtask bench` regenerates it after a full run; `cargo xtask bench --rerender`
//! re-renders it (and functions.md) from the JSON already in `docs/bench/`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::Context as _;
use serde_json::Value;

use super::cost;
use crate::scale_bench::{number, thousands};

/// Requests one active person makes a day, by function (assumed: a person who opens the app
/// about twice a day, works through their lists, and finishes a few tasks).
const DAILY_REQUESTS: &[(&str, f64)] = &[
    // Two visits: the page and its modules, stylesheet and icons (about 8 files each).
    ("web", 16.0),
    // Access tokens are short-lived: about two refreshes a visit.
    ("session-refresh", 4.0),
    // A log-in every ten days; sign-ups: 0.1% of the active base a day.
    ("session-create", 0.1),
    ("user-signup", 0.001),
    ("user-me-get", 2.0),
    ("user-me-update", 0.02),
    ("list-list", 2.0),
    ("list-get", 1.0),
    ("list-create", 0.05),
    ("list-update", 0.05),
    ("task-list", 6.0),
    ("task-search", 1.0),
    ("task-get", 2.0),
    ("task-create", 3.0),
    ("task-update", 4.0),
    ("task-delete", 0.5),
    ("notification-list", 2.0),
    ("notification-update", 1.0),
    ("file-upload-url", 0.2),
    ("file-uploaded", 0.2),
    ("file-list", 0.5),
    ("file-get", 0.3),
    ("file-delete", 0.05),
    ("member-list", 0.2),
    ("member-update", 0.01),
    ("member-remove", 0.01),
    ("invitation-create", 0.02),
    ("invitation-list", 0.1),
    ("invitation-revoke", 0.005),
    ("invitation-received", 0.2),
    ("invitation-accept", 0.01),
    ("invitation-decline", 0.005),
    ("invitation-announce", 0.02),
    ("list-delete", 0.01),
    ("user-me-delete", 0.0005),
    ("account-purge", 0.0005),
];
/// Reminders: alarms a person has sent a day, and the share of a day's alarms due in the
/// busiest minute (09:00 on a Monday).
const ALARMS_PER_PERSON_PER_DAY: f64 = 1.0;
const ALARM_PEAK_MINUTE_SHARE: f64 = 0.2;
/// The busiest hour carries this share of a day's requests; its busiest second this many
/// times the hour's mean rate.
const PEAK_HOUR_SHARE: f64 = 0.10;
const PEAK_SECOND_FACTOR: f64 = 2.0;
/// Stored per person: DynamoDB items (tasks, lists, notifications, sessions: ~300 of ≤ 1 KB)
/// and attached files.
const TABLE_KB_PER_PERSON: f64 = 300.0;
const FILES_MB_PER_PERSON: f64 = 20.0;
const DAYS_A_MONTH: f64 = 30.0;
/// A reminders run sends for 50 s of its minute (usecases/reminders.rs).
const SENDING_S_PER_RUN: f64 = 50.0;

/// Prices (us-east-1, on-demand, public price pages) beyond the per-call ones in `cost.rs`.
const DYNAMODB_GB_MONTH: f64 = 0.25;
const S3_GB_MONTH: f64 = 0.023;
const S3_PUT: f64 = 0.000_005;
/// Secrets Manager: the signing keys' secret, and one read per cold start (assumed one per
/// 1,000 HTTP requests).
const SECRET_MONTH: f64 = 0.40;
const SECRET_CALL: f64 = 0.000_005;
const COLD_STARTS_PER_REQUEST: f64 = 0.001;
/// EventBridge Scheduler: the first 14 million invocations a month are free, then $1/million.
const SCHEDULER_FREE: f64 = 14_000_000.0;
const SCHEDULER_INVOCATION: f64 = 0.000_001;

/// Default quotas of an AWS account, per region (Service Quotas), and the template's own.
const LAMBDA_CONCURRENCY: f64 = 1000.0;
const HTTP_API_ACCOUNT_RPS: f64 = 10_000.0;
const DYNAMODB_TABLE_UNITS_PER_S: f64 = 40_000.0;

const PEOPLE: [f64; 3] = [10_000.0, 100_000.0, 1_000_000.0];

/// The limits compared, and how each is raised.
const STAGE_THROTTLE: &str = "the template's stage throttle";
const LAMBDA: &str = "Lambda concurrent executions";
const HTTP_API: &str = "HTTP API requests/s per account";
const TABLE_WRITES: &str = "DynamoDB write units/s per table";
const TABLE_READS: &str = "DynamoDB read units/s per table";
const REMINDERS: &str = "reminders delivered per run (one invocation per shard)";

fn remedy(limit: &str) -> &'static str {
    match limit {
        STAGE_THROTTLE => {
            "`DefaultRouteSettings` in template.yaml — a deploy, not a support case. Set it to the expected peak with headroom, below the account's HTTP API quota; the password routes keep their own lower limits."
        }
        LAMBDA => {
            "Service Quotas, Lambda \"Concurrent executions\" (new accounts may start well below the 1,000 default). Request twice the modelled peak before a launch; the template's reserved concurrency per service (`*Concurrency` parameters) keeps a noisy route from starving the others."
        }
        HTTP_API => "Service Quotas, API Gateway \"Throttle rate for HTTP APIs per account\" (a support request).",
        TABLE_WRITES => {
            "Service Quotas, DynamoDB \"Table-level write throughput limit\" for on-demand tables; before a launch of this size, pre-warm the table (warm throughput) so the first peak is not throttled while it splits. The reminders' alarm peak is the sharpest write peak."
        }
        TABLE_READS => {
            "Service Quotas, DynamoDB \"Table-level read throughput limit\" for on-demand tables, and warm throughput before a launch."
        }
        REMINDERS => {
            "not a quota: the job's design. Each shard's worker is its own invocation, CPU-bound at a full vCPU, so a run delivers the shard count times one worker's alarms: raise the shard count (`TODO_ALARM_SHARDS` and the queue mapping's `MaximumConcurrency` together, up to 128) and the worker concurrency. docs/reminders.md models the lateness and the settings that keep p99 under 60 s at 1M alarms a minute."
        }
        _ => "",
    }
}

/// One function's per-call figures from `functions.json`.
struct PerCall {
    duration_ms: f64,
    lambda: f64,
    api: f64,
    dynamodb: f64,
    s3: f64,
    read_units: f64,
    write_units: f64,
}

fn per_call(functions: &Value) -> BTreeMap<String, PerCall> {
    functions["functions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|row| {
            let memory = row["memory_mb"].as_u64()?;
            Some((
                row["function"].as_str()?.to_owned(),
                PerCall {
                    duration_ms: number(row, &["modelled_duration_ms", &memory.to_string()]),
                    lambda: number(row, &["cost_per_million_usd", "lambda"]) / 1e6,
                    api: number(row, &["cost_per_million_usd", "api_gateway"]) / 1e6,
                    dynamodb: number(row, &["cost_per_million_usd", "dynamodb"]) / 1e6,
                    s3: number(row, &["cost_per_million_usd", "s3"]) / 1e6,
                    read_units: number(row, &["cost_per_million_usd", "read_units"]),
                    write_units: number(row, &["cost_per_million_usd", "write_units"]),
                },
            ))
        })
        .collect()
}

/// What one delivered alarm costs, from the reminders benchmark's DynamoDB run (moto): CPU on
/// a full core and calls per alarm, at the reminders function's memory.
struct PerAlarm {
    cpu_ms: f64,
    read_units: f64,
    write_units: f64,
}

fn per_alarm(reminders: &Value) -> PerAlarm {
    // The costlier of the DynamoDB runs (with one person's pile of alarms, or without), as
    // docs/reminders.md's model takes it.
    let run = reminders
        .as_array()
        .into_iter()
        .flatten()
        .filter(|run| run["store"].as_str().is_some_and(|store| store.starts_with("dynamodb")))
        .max_by(|a, b| a["cpu_ms_per_alarm"].as_f64().unwrap_or(0.0).total_cmp(&b["cpu_ms_per_alarm"].as_f64().unwrap_or(0.0)));
    let calls = |name: &str| run.and_then(|run| run["dynamodb_calls_per_alarm"][name].as_f64()).unwrap_or(0.0);
    PerAlarm {
        cpu_ms: run.and_then(|run| run["cpu_ms_per_alarm"].as_f64()).unwrap_or(0.0),
        // GetItem (1 unit), Query of ≤ 1 KB of keys (1 unit); the transaction writes the task
        // and the notification (2 units each) and the index entries (1 each).
        read_units: calls("GetItem") + calls("Query"),
        write_units: calls("TransactWriteItems") * 6.0,
    }
}

fn template() -> anyhow::Result<serde_yaml::Value> {
    Ok(serde_yaml::from_str(&std::fs::read_to_string(crate::workspace_root().join("template.yaml"))?)?)
}

/// The template's default stage throttle (requests a second).
fn template_throttle(template: &serde_yaml::Value) -> anyhow::Result<f64> {
    let api = template["Resources"]
        .as_mapping()
        .context("Resources")?
        .values()
        .find(|resource| resource["Type"] == "AWS::Serverless::HttpApi")
        .context("no HttpApi")?;
    api["Properties"]["DefaultRouteSettings"]["ThrottlingRateLimit"].as_f64().context("no ThrottlingRateLimit")
}

/// The reminders workers that run at once: the shards queue mapping's `MaximumConcurrency`
/// (one per shard; a test holds it equal to the shard count).
fn template_reminder_workers(template: &serde_yaml::Value) -> anyhow::Result<f64> {
    template["Resources"]["ReminderShardsMapping"]["Properties"]["ScalingConfig"]["MaximumConcurrency"]
        .as_f64()
        .context("ReminderShardsMapping has no MaximumConcurrency")
}

/// The page, from the two benchmarks' JSON.
pub fn render(functions: &Value, reminders: &Value) -> anyhow::Result<String> {
    let calls = per_call(functions);
    let alarm = per_alarm(reminders);
    let template = template()?;
    let throttle = template_throttle(&template)?;
    let workers = template_reminder_workers(&template)?;
    let reminders_gb = match cost::memory_set_elsewhere("reminders-shard") {
        Some(cost::Elsewhere::Fixed(mb, _)) => f64::from(mb),
        _ => cost::FULL_VCPU_MB,
    } / 1024.0;
    let missing: Vec<&str> = DAILY_REQUESTS.iter().map(|(f, _)| *f).filter(|f| !calls.contains_key(*f)).collect();
    let mut page = String::from("# Capacity and cost model\n\n");
    let _ = write!(
        page,
        "Generated by `cargo xtask bench` (or `cargo xtask bench --rerender` from the JSON beside it) from `functions.json` ({}, {}: each function's chosen memory, modelled duration and cost per call), `reminders.json` (per delivered alarm: {:.2} ms of CPU, {:.2} read and {:.2} write units) and the usage profile below (`xtask/src/bench/capacity.rs`). Prices: us-east-1, arm64, on-demand (docs/bench/README.md). Not counted: CloudWatch Logs and metrics, data transfer out, KMS.\n\n",
        functions["date"].as_str().unwrap_or("undated"),
        functions["machine"].as_str().unwrap_or("unknown machine"),
        alarm.cpu_ms,
        alarm.read_units,
        alarm.write_units,
    );
    if !missing.is_empty() {
        let _ = write!(page, "**Not measured in this run, counted as free:** {}.\n\n", missing.join(", "));
    }
    let http_daily: f64 = DAILY_REQUESTS.iter().filter(|(f, _)| cost::is_http(f)).map(|(_, n)| n).sum();
    let _ = write!(
        page,
        "## Assumptions, per active person\n\n- {http_daily:.1} HTTP requests a day ({}); the busiest hour carries {:.0}% of a day's requests, its busiest second {PEAK_SECOND_FACTOR}× that hour's mean.\n- {ALARMS_PER_PERSON_PER_DAY} reminder a day; {:.0}% of a day's alarms fall due in the busiest minute.\n- {TABLE_KB_PER_PERSON:.0} KB in the table, {FILES_MB_PER_PERSON:.0} MB of files.\n- A cold start (one Secrets Manager read) per {:.0} HTTP requests.\n\n",
        DAILY_REQUESTS
            .iter()
            .filter(|(f, n)| cost::is_http(f) && *n >= 1.0)
            .map(|(f, n)| format!("{f} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
            + ", and the rest under 1 each",
        PEAK_HOUR_SHARE * 100.0,
        ALARM_PEAK_MINUTE_SHARE * 100.0,
        1.0 / COLD_STARTS_PER_REQUEST,
    );

    page.push_str("## Monthly cost (USD)\n\n| active people | Lambda | API Gateway | DynamoDB requests | DynamoDB storage | S3 | Scheduler | Secrets Manager | **total** | per person |\n|---|---|---|---|---|---|---|---|---|---|\n");
    let mut peaks = Vec::new();
    for people in PEOPLE {
        let month = |daily: f64| people * daily * DAYS_A_MONTH;
        let (mut lambda, mut api, mut dynamodb, mut s3) = (0.0, 0.0, 0.0, 0.0);
        let (mut concurrency, mut read_units_peak, mut write_units_peak) = (0.0, 0.0, 0.0);
        for (function, daily) in DAILY_REQUESTS {
            let Some(call) = calls.get(*function) else { continue };
            let n = month(*daily);
            lambda += n * call.lambda;
            api += n * call.api;
            dynamodb += n * call.dynamodb;
            s3 += n * call.s3;
            let peak_rate = people * daily * PEAK_HOUR_SHARE / 3600.0 * PEAK_SECOND_FACTOR;
            // Little's law: calls in flight = arrival rate × time each takes.
            concurrency += peak_rate * call.duration_ms / 1000.0;
            read_units_peak += peak_rate * call.read_units;
            write_units_peak += peak_rate * call.write_units;
        }
        let alarms = month(ALARMS_PER_PERSON_PER_DAY);
        // The run is CPU-bound (docs/reminders.md): billed time ≈ CPU time at a full vCPU.
        lambda += alarms * (reminders_gb * alarm.cpu_ms / 1000.0 * cost::LAMBDA_GB_SECOND);
        dynamodb += alarms * (alarm.read_units * cost::DYNAMODB_RRU + alarm.write_units * cost::DYNAMODB_WRU);
        let uploads = month(DAILY_REQUESTS.iter().find(|(f, _)| *f == "file-uploaded").map_or(0.0, |(_, n)| *n));
        s3 += uploads * S3_PUT + people * FILES_MB_PER_PERSON / 1024.0 * S3_GB_MONTH;
        let storage = people * TABLE_KB_PER_PERSON / 1024.0 / 1024.0 * DYNAMODB_GB_MONTH;
        // Two schedules: reminders every minute, housekeeping daily (and account purges ride the stream).
        let schedule_runs = DAYS_A_MONTH * (24.0 * 60.0 + 1.0);
        let scheduler = (schedule_runs - SCHEDULER_FREE).max(0.0) * SCHEDULER_INVOCATION;
        let http_requests = month(http_daily);
        let secrets = SECRET_MONTH + http_requests * COLD_STARTS_PER_REQUEST * SECRET_CALL;
        let total = lambda + api + dynamodb + storage + s3 + scheduler + secrets;
        let _ = writeln!(
            page,
            "| {} | {lambda:.0} | {api:.0} | {dynamodb:.0} | {storage:.0} | {s3:.0} | {scheduler:.2} | {secrets:.2} | **{}** | {:.4} |",
            thousands(people),
            thousands(total),
            total / people
        );
        let api_peak = people * http_daily * PEAK_HOUR_SHARE / 3600.0 * PEAK_SECOND_FACTOR;
        let alarms_peak_minute = people * ALARMS_PER_PERSON_PER_DAY * ALARM_PEAK_MINUTE_SHARE;
        // A run sends its minute's alarms within its 50 s.
        let alarm_rate = alarms_peak_minute / SENDING_S_PER_RUN;
        peaks.push((people, api_peak, concurrency, read_units_peak, write_units_peak, alarms_peak_minute, alarm_rate));
    }

    // One worker's deliveries a second: CPU-bound at a full vCPU (docs/reminders.md's model
    // adds the round trips and gets a little less), for the 50 s of each minute a run sends;
    // a run is one worker per shard, side by side (the index spreads alarms evenly over them).
    // At most its index partition's write limit, whatever the CPU allows.
    let alarm_capacity =
        (if alarm.cpu_ms > 0.0 { 1000.0 / alarm.cpu_ms } else { f64::INFINITY }).min(crate::scale_bench::SHARD_ALARMS_PER_S);
    let alarms_per_run = alarm_capacity * SENDING_S_PER_RUN * workers;
    let _ = write!(
        page,
        "\n## Peaks against quotas\n\nDefault quotas per account and region: Lambda concurrency {}, HTTP API {} requests/s; DynamoDB on-demand {} read and {} write units/s per table. The template's own stage throttle: {throttle:.0} requests/s (`DefaultRouteSettings`). The reminders job: {workers:.0} workers a run (one invocation per shard), each delivering at most about {alarm_capacity:.0} alarms/s (1,000 ms ÷ its CPU per alarm at a full vCPU, and at most its index partition's {} alarms/s, as docs/reminders.md's model has it) for the 50 s of each minute it sends: {} alarms a run. Lambda concurrency by Little's law (peak rate × modelled duration at the chosen memory), plus the reminders workers ({workers:.0}).\n\n| active people | peak API requests/s (÷ stage throttle, ÷ account quota) | peak Lambda concurrency (÷ quota) | alarm peak: alarms in the minute, per s (÷ one run's deliveries) | peak DynamoDB read units/s (÷ table quota) | peak write units/s, requests + alarms (÷ table quota) | first limit reached |\n|---|---|---|---|---|---|---|\n",
        thousands(LAMBDA_CONCURRENCY),
        thousands(HTTP_API_ACCOUNT_RPS),
        thousands(DYNAMODB_TABLE_UNITS_PER_S),
        thousands(DYNAMODB_TABLE_UNITS_PER_S),
        thousands(crate::scale_bench::SHARD_ALARMS_PER_S),
        thousands(alarms_per_run),
    );
    let mut last_limits = None;
    for (people, api_peak, concurrency, reads, writes, alarms_minute, alarm_rate) in &peaks {
        let concurrency = concurrency + workers;
        let reads = reads + alarm_rate * alarm.read_units;
        let writes = writes + alarm_rate * alarm.write_units;
        let mut limits = [
            (STAGE_THROTTLE, api_peak / throttle),
            (LAMBDA, concurrency / LAMBDA_CONCURRENCY),
            (HTTP_API, api_peak / HTTP_API_ACCOUNT_RPS),
            (TABLE_WRITES, writes / DYNAMODB_TABLE_UNITS_PER_S),
            (TABLE_READS, reads / DYNAMODB_TABLE_UNITS_PER_S),
            (REMINDERS, alarms_minute / alarms_per_run),
        ];
        limits.sort_by(|a, b| b.1.total_cmp(&a.1));
        let over: Vec<String> = limits.iter().filter(|(_, used)| *used >= 1.0).map(|(name, used)| format!("{name} ({used:.1}×)")).collect();
        let first =
            if over.is_empty() { format!("none (highest: {} at {:.0}%)", limits[0].0, limits[0].1 * 100.0) } else { over.join(", then ") };
        let _ = writeln!(
            page,
            "| {} | {} ({:.1}×, {:.2}×) | {concurrency:.0} ({:.2}×) | {}, {} ({:.1}×) | {} ({:.2}×) | {} ({:.2}×) | {first} |",
            thousands(*people),
            thousands(*api_peak),
            api_peak / throttle,
            api_peak / HTTP_API_ACCOUNT_RPS,
            concurrency / LAMBDA_CONCURRENCY,
            thousands(*alarms_minute),
            thousands(*alarm_rate),
            alarms_minute / alarms_per_run,
            thousands(reads),
            reads / DYNAMODB_TABLE_UNITS_PER_S,
            thousands(writes),
            writes / DYNAMODB_TABLE_UNITS_PER_S,
        );
        last_limits = Some(limits);
    }
    // The order to raise them in: as the largest row uses them.
    if let Some(largest) = last_limits {
        page.push_str("\n## What to raise first\n\nIn the order the largest row above uses them:\n\n");
        for (rank, (name, used)) in largest.iter().enumerate() {
            let _ = writeln!(
                page,
                "{}. **{name}** ({:.0}% of it at {} people): {}",
                rank + 1,
                used * 100.0,
                thousands(PEOPLE[PEOPLE.len() - 1]),
                remedy(name)
            );
        }
    }
    Ok(page)
}

/// Re-renders `docs/bench/capacity.md` from the JSON in `dir`.
pub fn write(dir: &std::path::Path) -> anyhow::Result<()> {
    let read = |name: &str| -> anyhow::Result<Value> {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        Ok(serde_json::from_str(&text)?)
    };
    // The smoke run has no reminders figures of its own: the committed ones.
    let reminders = read("reminders.json").or_else(|_| {
        let committed = std::fs::read_to_string(crate::workspace_root().join("docs/bench/reminders.json"))?;
        anyhow::Ok(serde_json::from_str::<Value>(&committed)?)
    })?;
    let page = render(&read("functions.json")?, &reminders)?;
    std::fs::write(dir.join("capacity.md"), page)?;
    Ok(())
}
