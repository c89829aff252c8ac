//! `functions.md` rendered from the run's figures as `functions.json` holds them, with each
//! function's memory chosen from the model (`cost.rs`) and written back into its JSON row
//! (`memory_mb`, which the template test reads), then `capacity.md`. Rendering from the
//! JSON lets a change to the model or the prices re-render the pages without measuring
//! again: `cargo xtask bench --rerender`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use serde_json::{Value, json};

use super::{FLOOR, NODE_REFERENCE, cost, scenario};

fn number(row: &Value, key: &str) -> f64 {
    row[key].as_f64().unwrap_or(0.0)
}

/// The sample at `p` (0-1) of the sorted `samples`, as `percentile` picks it.
fn percentile(row: &Value, key: &str, p: f64) -> f64 {
    let mut samples: Vec<f64> = row[key].as_array().into_iter().flatten().filter_map(Value::as_f64).collect();
    samples.sort_by(f64::total_cmp);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples.get(index).copied().unwrap_or_default()
}

/// Writes `functions.md`, `functions.json` (with the memory choices) and `capacity.md` into
/// `out_dir`.
pub fn write(document: &mut Value, out_dir: &Path) -> anyhow::Result<()> {
    let markdown = render(document, out_dir)?;
    println!("{markdown}");
    std::fs::create_dir_all(out_dir)?;
    std::fs::write(out_dir.join("functions.md"), &markdown)?;
    std::fs::write(out_dir.join("functions.json"), serde_json::to_string_pretty(document)?)?;
    super::capacity::write(out_dir)?;
    eprintln!("written to {}", out_dir.display());
    Ok(())
}

/// Re-renders the pages in `dir` from its `functions.json`.
pub fn rerender(dir: &Path) -> anyhow::Result<()> {
    let path = dir.join("functions.json");
    let mut document: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?)?;
    write(&mut document, dir)
}

/// CPU per task of the purge benchmark's DynamoDB run (`purge.json` in `dir`, else the
/// committed one).
fn purge_cpu_ms_per_task(dir: &Path) -> Option<f64> {
    let read = |path: std::path::PathBuf| std::fs::read_to_string(path).ok().and_then(|text| serde_json::from_str::<Value>(&text).ok());
    let runs = read(dir.join("purge.json")).or_else(|| read(crate::workspace_root().join("docs/bench/purge.json")))?;
    runs.as_array()?
        .iter()
        .find(|run| run["store"].as_str().is_some_and(|store| store.starts_with("dynamodb")))?
        .get("cpu_ms_per_task")?
        .as_f64()
}

fn render(document: &mut Value, out_dir: &Path) -> anyhow::Result<String> {
    let mut markdown = format!(
        "# Function benchmark\n\n{}, {}; {} build, x86-64 (the arm64 artifacts' sizes are in arm64.md); {} cold starts and {} warm invocations per function, each beside a cold start of the runtime-only floor, alternately before and after it (init / floor compares the medians of these neighbours); stores and the signing keys' secret: moto's server on loopback, over plain HTTP or through a TLS relay (\"TLS\" columns: as on AWS, a cold start then includes a TLS handshake; HTTP functions read the secret during init, event functions never do).\n\n",
        document["date"].as_str().unwrap_or("undated"),
        document["machine"].as_str().unwrap_or("unknown machine"),
        if document["debug_build"].as_bool() == Some(true) { "debug" } else { "release" },
        document["cold_starts"],
        document["warm"],
    );
    let rows = document["functions"].as_array_mut().context("functions.json has no functions")?;
    let node_cpu = rows.iter().find(|row| row["function"] == NODE_REFERENCE).map(|row| number(row, "cpu_per_warm_call_ms"));
    markdown.push_str("| function | init p50 (min-max) ms | init / floor | init p50 ms over TLS | first call p50 ms (HTTP / TLS) | warm p50 / p99 ms | CPU per warm call ms | Node's CPU ÷ this | peak RSS MiB | AWS calls per call | binary MiB | zip MiB |\n");
    markdown.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for row in rows.iter() {
        let binary = row["function"].as_str().unwrap_or_default();
        let calls: BTreeMap<String, f64> = serde_json::from_value(row["aws_calls_per_call"].clone()).unwrap_or_default();
        let mut listed = calls.iter().map(|(name, n)| format!("{name} {n:.2}")).collect::<Vec<_>>().join(", ");
        let round_trips = number(row, "dynamodb_round_trips_per_call");
        if round_trips > 0.0 {
            let _ = write!(listed, " ({round_trips:.2} DynamoDB round trips)");
        }
        let mib = |key: &str| row[key].as_f64().map_or_else(|| "—".to_owned(), |bytes| format!("{:.2}", bytes / 1_048_576.0));
        let cpu = number(row, "cpu_per_warm_call_ms");
        let against_node = match node_cpu {
            Some(node) if binary != NODE_REFERENCE => format!("{:.1}×", node / cpu),
            _ => "—".to_owned(),
        };
        let init = row["init_ms"].as_array().into_iter().flatten().filter_map(Value::as_f64);
        let (low, high) = init.fold((f64::INFINITY, 0.0_f64), |(low, high), ms| (low.min(ms), high.max(ms)));
        let _ = writeln!(
            markdown,
            "| {binary} | {:.2} ({low:.2}-{high:.2}) | {:.2}× | {:.2} | {:.2} / {:.2} | {:.2} / {:.2} | {cpu:.3} | {against_node} | {:.1} | {} | {} | {} |",
            percentile(row, "init_ms", 0.5),
            number(row, "init_over_floor"),
            percentile(row, "init_tls_ms", 0.5),
            percentile(row, "first_call_ms", 0.5),
            percentile(row, "first_call_tls_ms", 0.5),
            number(row, "warm_p50_ms"),
            number(row, "warm_p99_ms"),
            number(row, "peak_rss_kib") / 1024.0,
            if listed.is_empty() { "none".to_owned() } else { listed },
            mib("binary_bytes"),
            mib("zip_bytes"),
        );
    }
    if let Some(node) = node_cpu {
        // Reads of the store: `GET` routes that call DynamoDB (not the web app's files).
        let reads: Vec<(&str, f64)> = rows
            .iter()
            .filter(|row| row["aws_calls_per_call"].as_object().is_some_and(|calls| !calls.is_empty()))
            .filter_map(|row| Some((row["function"].as_str()?, number(row, "cpu_per_warm_call_ms"))))
            .filter(|(binary, _)| *binary != FLOOR && *binary != NODE_REFERENCE)
            .filter(|(binary, _)| scenario::sample(binary).is_ok_and(|event| scenario::is_read(&event)))
            .map(|(binary, cpu)| (binary, node / cpu))
            .collect();
        let met = reads.iter().filter(|(_, ratio)| *ratio >= 8.0).count();
        let listed = reads.iter().map(|(binary, ratio)| format!("{binary} {ratio:.1}×")).collect::<Vec<_>>().join(", ");
        let _ = write!(
            markdown,
            "\n## CPU per warm read against Node\n\n`{NODE_REFERENCE}` (Node 20, AWS SDK for JavaScript v3, one strongly consistent GetItem of the task, no token or member check: `infra/bench-node`) took **{node:.3} ms** of CPU per warm call in this run. Reads of the store (`GET` routes), Node's CPU ÷ theirs: {listed}. At least 8× less: **{met} of {}**.\n",
            reads.len()
        );
    }
    markdown.push_str(&memory_section(rows, purge_cpu_ms_per_task(out_dir)));
    let local = &document["local_server"];
    let _ = write!(
        markdown,
        "\n## Local server (`cargo run`, embedded SQLite store)\n\n`GET /lists/{{list_id}}/tasks/{{task_id}}` over {} keep-alive loopback connections, {} requests: **{:.0} requests/s**, latency p50 {:.3} ms, p99 {:.3} ms (client-side, including HTTP on loopback).\n",
        local["connections"],
        local["requests"],
        number(local, "requests_per_second"),
        number(local, "p50_ms"),
        number(local, "p99_ms"),
    );
    Ok(markdown)
}

/// Each function's memory chosen from the model, and what a million calls cost at it; the
/// choice and the modelled durations go into the function's row.
fn memory_section(rows: &mut [Value], purge_cpu_ms_per_task: Option<f64>) -> String {
    let mut markdown = String::new();
    let sizes = cost::MEMORY_SIZES_MB.iter().map(|m| format!("{m} MB ms")).collect::<Vec<_>>().join(" | ");
    let _ = write!(
        markdown,
        "\n## Memory size and cost per million calls (model)\n\nModelled duration at each size = CPU per warm call × 1,769 MB ÷ size (Lambda's CPU share; one full vCPU at 1,769 MB; this machine's core taken as one vCPU) + AWS round trips × an assumed {} ms. Chosen: the cheapest size within {} ms of the function's fastest where a person waits (HTTP routes), within {} ms where nobody does (events, schedules), holding {}× the peak RSS; template.yaml sets each function's `MemorySize` to it (a test checks). Cost per million calls at the chosen size, arm64, billed per started ms; docs/bench/README.md has the prices and unit assumptions.\n\n| function | {sizes} | chosen MB | billed ms | Lambda $ | API Gateway $ | DynamoDB $ | S3 $ | total $ |\n|---|{}---|---|---|---|---|---|---|\n",
        cost::AWS_CALL_MS,
        cost::SLACK_PERSON_WAITS_MS,
        cost::SLACK_NOBODY_WAITS_MS,
        cost::RSS_HEADROOM,
        "---|".repeat(cost::MEMORY_SIZES_MB.len()),
    );
    // Each function's own choice first: a function may take another's (`Elsewhere::As`).
    let mut own = BTreeMap::new();
    for row in rows.iter() {
        let Some(binary) = row["function"].as_str() else { continue };
        let calls: BTreeMap<String, f64> = serde_json::from_value(row["aws_calls_per_call"].clone()).unwrap_or_default();
        own.insert(binary.to_owned(), work(row, &calls).chosen_memory_mb());
    }
    for row in rows.iter_mut() {
        let binary = row["function"].as_str().unwrap_or_default().to_owned();
        if binary == FLOOR || binary == NODE_REFERENCE {
            continue;
        }
        let calls: BTreeMap<String, f64> = serde_json::from_value(row["aws_calls_per_call"].clone()).unwrap_or_default();
        let work = work(row, &calls);
        let (memory, why) = match resolve(&binary, &own, purge_cpu_ms_per_task) {
            Some((memory, why)) => (memory, format!(" ({why})")),
            None => (work.chosen_memory_mb(), String::new()),
        };
        let cost = work.cost(memory);
        let durations = cost::MEMORY_SIZES_MB.iter().map(|m| format!("{:.1}", work.duration_ms(*m))).collect::<Vec<_>>().join(" | ");
        let _ = writeln!(
            markdown,
            "| {binary} | {durations} | **{memory}**{why} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | **{:.2}** |",
            cost.billed_ms,
            cost.lambda,
            cost.api,
            cost.dynamodb,
            cost.s3,
            cost.total()
        );
        let modelled: serde_json::Map<String, Value> =
            cost::MEMORY_SIZES_MB.iter().map(|m| (m.to_string(), json!(work.duration_ms(*m)))).collect();
        row["memory_mb"] = json!(memory);
        row["modelled_duration_ms"] = modelled.into();
        row["cost_per_million_usd"] = json!({
            "lambda": cost.lambda, "api_gateway": cost.api, "dynamodb": cost.dynamodb, "s3": cost.s3,
            "billed_ms": cost.billed_ms, "read_units": cost.rru, "write_units": cost.wru,
        });
    }
    markdown
}

/// The memory of a function sized otherwise than by its own calls (`cost::memory_set_elsewhere`),
/// and why; `None` when its own calls decide (or what would decide was not measured).
fn resolve(binary: &str, own: &BTreeMap<String, u32>, purge_cpu_ms_per_task: Option<f64>) -> Option<(u32, String)> {
    match cost::memory_set_elsewhere(binary)? {
        cost::Elsewhere::Fixed(memory, why) => Some((memory, why.to_owned())),
        cost::Elsewhere::LargeAccountPurge => purge_cpu_ms_per_task.map(|cpu| {
            (
                cost::purge_memory_mb(cpu),
                format!(
                    "{} tasks at {cpu:.2} ms each within {:.0}% of one {:.0} s run: purge.json",
                    crate::scale_bench::thousands(cost::LARGE_ACCOUNT_TASKS),
                    cost::PURGE_TIMEOUT_SHARE * 100.0,
                    cost::PURGE_TIMEOUT_S
                ),
            )
        }),
        cost::Elsewhere::As(other, why) => {
            let memory = match resolve(other, own, purge_cpu_ms_per_task) {
                Some((memory, _)) => memory,
                None => *own.get(other)?,
            };
            Some((memory, why.to_owned()))
        }
    }
}

/// A row's measured work per call.
fn work<'a>(row: &Value, calls: &'a BTreeMap<String, f64>) -> cost::Work<'a> {
    let s3_calls: f64 = calls.iter().filter(|(call, _)| call.starts_with("s3:")).map(|(_, n)| n).sum();
    cost::Work {
        cpu_ms: number(row, "cpu_per_warm_call_ms"),
        round_trips: number(row, "dynamodb_round_trips_per_call") + s3_calls,
        calls,
        peak_rss_mib: number(row, "peak_rss_kib") / 1024.0,
        http: cost::is_http(row["function"].as_str().unwrap_or_default()),
    }
}
