//! `cargo xtask <command>`: the project's scripts, in Rust.
//!
//! - `test`: the full test suite (what CI runs, what the README names).
//! - `lint`: formatting and clippy, warnings denied.
//! - `bench`: every function binary measured as Lambda runs it (see `bench`).
//! - `sam-local`: the `sam build` + `sam local invoke` / `start-api` part of `test` alone.
//! - `sam-build`: SAM CLI's own `sam build` of every function, as for `sam deploy` (arm64).
//! - `web`: the web app's browser tests alone (Chromium, against the local server).
//! - `reminders-bench`: the reminders job measured (embedded store, DynamoDB on moto) and
//!   modelled for AWS: docs/reminders.md. `purge-bench`: deleting a large account, measured:
//!   docs/bench/purge.md.
//! - `fuzz`: schemathesis over every operation of the OpenAPI document, long (over 10,000
//!   cases; `--max-examples N` per operation and phase); the test command runs a quick pass.

mod bench;
mod container;
mod emulator;
mod fuzz;
mod lambda_runtime;
mod load;
mod process;
mod python;
mod sam;
mod sam_local;
mod scale_bench;
mod template;
mod web;

use anyhow::{Context as _, bail, ensure};
use xshell::{Shell, cmd};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sh = Shell::new()?;
    sh.change_dir(workspace_root());
    match args.first().map(String::as_str) {
        Some("test") => test(&sh, &args[1..]),
        Some("lint") => lint(&sh),
        Some("bench") => {
            let options = if args.iter().any(|arg| arg == "--smoke") { bench::Options::smoke() } else { bench::Options::full() };
            let options = bench::Options {
                no_build: args.iter().any(|arg| arg == "--no-build"),
                instructions: args.iter().any(|arg| arg == "--instructions"),
                ..options
            };
            let options = match args.iter().position(|arg| arg == "--only") {
                // A partial run never overwrites the committed full one (the template test
                // reads every function's memory from it).
                Some(at) => bench::Options {
                    functions: args.get(at + 1).context("--only needs a comma-separated list")?.split(',').map(str::to_owned).collect(),
                    out_dir: target_dir().join("bench-partial"),
                    ..options
                },
                None => options,
            };
            let options = match args.iter().position(|arg| arg == "--out") {
                Some(at) => bench::Options { out_dir: args.get(at + 1).context("--out needs a directory")?.into(), ..options },
                None => options,
            };
            // The pages re-rendered from the JSON of the last run (the model or prices changed).
            if args.iter().any(|arg| arg == "--rerender") {
                ensure!(
                    args.len() == 2,
                    "--rerender takes no other options: it re-renders docs/bench and docs/reminders.md from their JSON"
                );
                scale_bench::rerender_reminders()?;
                return bench::report::rerender(&options.out_dir);
            }
            if args.iter().any(|arg| arg == "--arm64-sizes") {
                return bench::arm64_sizes(&sh, &options);
            }
            if options.debug {
                cmd!(sh, "cargo build --workspace --bins").run().context("build failed")?;
            }
            bench::run(&sh, &options, &|| emulator::Moto::start_with(&sh, &tools_dir(), true))
        }
        Some("sam-local") => {
            let sam = sam::Sam::install(&sh, &tools_dir())?;
            sam_local::run(&sh, &tools_dir(), &sam)
        }
        Some("sam-build") => {
            let sam = sam::Sam::install(&sh, &tools_dir())?;
            bench::add_arm64_target(&sh)?;
            sam.build_for_deploy(&sh).map(drop)
        }
        Some("web") => {
            cmd!(sh, "cargo build -p todo-local").run().context("build failed")?;
            web::browser_tests(&sh, &tools_dir())
        }
        Some("fuzz") => {
            cmd!(sh, "cargo build -p todo-local").run().context("build failed")?;
            let options = match args.iter().position(|arg| arg == "--max-examples") {
                Some(at) => fuzz::Options {
                    max_examples: args
                        .get(at + 1)
                        .context("--max-examples needs a number")?
                        .parse()
                        .context("--max-examples needs a number")?,
                    ..fuzz::Options::long()
                },
                None => fuzz::Options::long(),
            };
            fuzz::run(&sh, &tools_dir(), &options)
        }
        Some("load") => {
            let number = |flag: &str| -> anyhow::Result<Option<u64>> {
                match args.iter().position(|arg| arg == flag) {
                    Some(at) => Ok(Some(args.get(at + 1).and_then(|n| n.parse().ok()).with_context(|| format!("{flag} needs a number"))?)),
                    None => Ok(None),
                }
            };
            let mut options = load::Options::long();
            if args.iter().any(|arg| arg == "--debug") {
                cmd!(sh, "cargo build -p todo-local").run().context("build failed")?;
                options.binary = target_dir().join("debug/todo-local");
            } else {
                cmd!(sh, "cargo build --release -p todo-local").run().context("release build of the local server failed")?;
            }
            if let Some(seconds) = number("--seconds")? {
                options.duration = std::time::Duration::from_secs(seconds);
            }
            if let Some(connections) = number("--connections")? {
                options.connections = usize::try_from(connections)?;
            }
            if let Some(users) = number("--users")? {
                options.users = usize::try_from(users)?;
            }
            load::run(&options)
        }
        Some(job @ ("reminders-bench" | "purge-bench")) => {
            let smoke = args.iter().any(|arg| arg == "--smoke");
            let options = scale_bench::Options { smoke, args: args[1..].iter().filter(|arg| *arg != "--smoke").cloned().collect() };
            if job == "reminders-bench" { scale_bench::reminders(&sh, &options) } else { scale_bench::purge(&sh, &options) }
        }
        Some("ci") => {
            lint(&sh)?;
            test(&sh, &[])
        }
        _ => {
            eprintln!(
                "usage: cargo xtask <test [nextest filters...] | lint | ci | bench [--smoke] [--no-build] [--instructions] [--rerender] [--arm64-sizes] [--only f1,f2] [--out dir] | sam-local | sam-build | web | fuzz [--max-examples N] | load [--seconds N] [--connections N] [--users N] [--debug] | reminders-bench [--smoke] [--alarms N] [--users N] [--pile N] [--scaling-alarms N] [--dynamodb-divisor N] | purge-bench [--smoke] [--tasks N]>"
            );
            bail!("unknown or missing command")
        }
    }
}

/// A number no other call in this process returns (names of scratch directories).
pub fn unique() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask sits in the workspace root").to_path_buf()
}

/// Cargo's target directory: `CARGO_TARGET_DIR`, else `target/` in the workspace.
pub fn target_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace_root().join("target"), std::path::PathBuf::from)
}

/// Where xtask keeps tools it installs (a Python venv for the emulator).
pub fn tools_dir() -> std::path::PathBuf {
    target_dir().join("xtask-tools")
}

/// The full suite: every crate's unit tests and every integration test, nothing skipped,
/// with the DynamoDB half of the conformance suite against moto's server.
fn test(sh: &Shell, filters: &[String]) -> anyhow::Result<()> {
    // Build first so compile time and test time show separately in CI logs.
    cmd!(sh, "cargo build --workspace --all-targets").run().context("build failed")?;
    template::check(sh, &tools_dir())?;
    let moto = emulator::Moto::start(sh, &tools_dir())?;
    let _endpoint = sh.push_env("TODO_TEST_AWS_ENDPOINT", &moto.endpoint);
    // The fault tests start (and stop, freeze, restart) a moto of their own.
    let _moto_python = sh.push_env("TODO_TEST_MOTO_PYTHON", emulator::python(sh, &tools_dir())?);
    let cargo_lambda = lambda_runtime::cargo_lambda(sh, &tools_dir())?;
    let _cargo_lambda = sh.push_env("TODO_TEST_CARGO_LAMBDA", &cargo_lambda);
    if cmd!(sh, "cargo nextest --version").quiet().ignore_stdout().ignore_stderr().run().is_ok() {
        cmd!(sh, "cargo nextest run --workspace --all-targets --no-fail-fast {filters...}").run().context("tests failed")?;
    } else {
        eprintln!("cargo-nextest not found; running cargo test");
        cmd!(sh, "cargo test --workspace --all-targets --no-fail-fast {filters...}").run().context("tests failed")?;
    }
    if filters.is_empty() {
        // The web app in a real browser, against the local server.
        web::browser_tests(sh, &tools_dir())?;
        // Every operation against its OpenAPI document, quickly (`cargo xtask fuzz`: long).
        fuzz::run(sh, &tools_dir(), &fuzz::Options::quick())?;
        // Load (200 connections, a mix, every acknowledged write read back) and a kill -9
        // mid-write, briefly, on the debug build (`cargo xtask load`: long, release).
        load::run(&load::Options::quick())?;
        // The reminders and purge benchmarks (and the model), tiny, so none can rot.
        let smoke = scale_bench::Options { smoke: true, args: Vec::new() };
        scale_bench::reminders(sh, &smoke)?;
        scale_bench::purge(sh, &smoke)?;
        // The benchmark's harness, smoke-sized (one function, a few calls, debug build), so
        // it cannot rot; its figures are not asserted.
        drop(moto);
        bench::run(sh, &bench::Options::smoke(), &|| emulator::Moto::start_with(sh, &tools_dir(), true))
            .context("the benchmark smoke run failed")?;
        // Last: the release builds and containers take the longest.
        let sam = sam::Sam::install(sh, &tools_dir())?;
        sam.validate(sh)?;
        sam_local::run(sh, &tools_dir(), &sam)?;
    }
    Ok(())
}

fn lint(sh: &Shell) -> anyhow::Result<()> {
    cmd!(sh, "cargo fmt --all -- --check").run().context("run `cargo fmt --all`")?;
    cmd!(sh, "cargo clippy --workspace --all-targets -- -D warnings").run().context("clippy found problems")?;
    web::type_check(sh, &tools_dir())
}
