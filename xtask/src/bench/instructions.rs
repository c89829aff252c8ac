//! `cargo xtask bench --instructions`: the instructions each function's warm calls execute,
//! counted by callgrind on the profiling build (release code with symbols). CPU time on a
//! shared VM moves ±20% from run to run; instruction counts repeat to a fraction of a
//! percent, so they show what a change to the code or the SDK's settings bought. Kernel time
//! (the loopback TCP of the calls) is not counted: CPU per warm call in the main table has it.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, ensure};
use xshell::{Shell, cmd};

use super::{Fixture, Instance, NODE_REFERENCE, Options};

/// Where callgrind's reports go: `<binary>.<pid>.<dump number>`.
fn reports_dir() -> PathBuf {
    crate::target_dir().join("bench-instructions")
}

pub fn run(sh: &Shell, options: &Options, start_emulator: &dyn Fn() -> anyhow::Result<crate::emulator::Moto>) -> anyhow::Result<()> {
    ensure!(cmd!(sh, "which valgrind callgrind_control").quiet().ignore_stdout().run().is_ok(), "--instructions needs valgrind");
    let functions: Vec<&String> = options.functions.iter().filter(|f| *f != NODE_REFERENCE).collect();
    let packages = super::package_args();
    // The measured functions and those the fixtures are made with.
    let mut wanted: Vec<&str> = functions.iter().map(|f| f.as_str()).chain(super::FIXTURE_FUNCTIONS.iter().copied()).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let bins: Vec<String> = wanted.iter().flat_map(|f| ["--bin".to_owned(), (*f).to_owned()]).collect();
    if !options.no_build {
        cmd!(sh, "cargo build --profile profiling {packages...} {bins...}").run().context("profiling build failed")?;
    }
    std::fs::create_dir_all(reports_dir())?;
    let profiling = crate::target_dir().join("profiling");
    let options = Options { cold_starts: 0, instructions: true, ..options.clone() };
    let invocations = 1 + options.warm;
    let mut rows = Vec::new();
    for binary in functions {
        eprintln!("counting {binary}");
        let figures = super::measure_alone(sh, binary, &profiling, start_emulator, invocations, &options)?;
        let (total, report) = figures.instructions.context("no count")?;
        #[allow(clippy::cast_precision_loss)]
        let per_call = total as f64 / options.warm as f64;
        rows.push(format!("| {binary} | {:.3} | {} |", per_call / 1e6, report.display()));
    }
    println!("| function | instructions per warm call (millions, user space) | callgrind report |\n|---|---|---|\n{}", rows.join("\n"));
    Ok(())
}

/// The warm process under callgrind (the profiling binary, started the way a cold start is).
pub fn start_under_callgrind(fixture: &Fixture, binary: &str) -> anyhow::Result<Instance> {
    let mut command = Command::new("valgrind");
    command
        .args(["--tool=callgrind", "--quiet"])
        .arg(format!("--callgrind-out-file={}/{binary}.%p", reports_dir().display()))
        .arg(fixture.bins.join(binary));
    Instance::spawn(fixture, binary, &[], command, Duration::from_secs(120))
}

/// Zeroes the counters (after init and the warm-up call).
pub fn zero(pid: u32) -> anyhow::Result<()> {
    let status = Command::new("callgrind_control").arg("--zero").arg(pid.to_string()).output()?;
    ensure!(status.status.success(), "callgrind_control --zero: {}", String::from_utf8_lossy(&status.stderr));
    Ok(())
}

/// Dumps the counters since `zero` and reads their total from the report.
pub fn dump(pid: u32, binary: &str) -> anyhow::Result<(u64, PathBuf)> {
    let status = Command::new("callgrind_control").arg("--dump").arg(pid.to_string()).output()?;
    ensure!(status.status.success(), "callgrind_control --dump: {}", String::from_utf8_lossy(&status.stderr));
    let report = reports_dir().join(format!("{binary}.{pid}.1"));
    let text = std::fs::read_to_string(&report).with_context(|| format!("reading {}", report.display()))?;
    let total = text
        .lines()
        .find_map(|line| line.strip_prefix("summary: ").or_else(|| line.strip_prefix("totals: ")))
        .context("no totals in the callgrind report")?
        .split_whitespace()
        .next()
        .context("empty totals")?
        .parse()?;
    Ok((total, report))
}
