//! `cargo xtask bench`: every function binary measured as Lambda runs it — a process per
//! cold start under a Lambda Runtime API emulator, against DynamoDB and S3 on moto's server
//! (through a relay that counts the calls) — beside a runtime-only floor binary.
//!
//! Prints a Markdown table and writes it, with the raw figures as JSON, to `docs/bench/`
//! (or `target/bench-smoke/` for the smoke run the test command does).

pub(crate) mod capacity;
mod cost;
mod http1;
mod instructions;
pub(crate) mod local_server;
mod proxy;
pub(crate) mod report;
mod runtime_api;
mod scenario;

pub use scenario::SAMPLE_USER_ID;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use serde_json::{Value, json};
use xshell::{Shell, cmd};

use proxy::CountingProxy;
use runtime_api::{Invocation, RuntimeApi};

/// Every function, in the order the table lists them; the floor comes first.
pub const FUNCTIONS: &[&str] = &[
    FLOOR,
    NODE_REFERENCE,
    "user-signup",
    "session-create",
    "session-refresh",
    "session-delete",
    "user-me-get",
    "user-me-update",
    "list-create",
    "list-list",
    "list-get",
    "list-update",
    "task-create",
    "task-list",
    "task-search",
    "task-get",
    "task-update",
    "task-delete",
    "file-upload-url",
    "file-list",
    "file-get",
    "file-delete",
    "file-uploaded",
    "notification-list",
    "notification-update",
    "member-list",
    "member-update",
    "member-remove",
    "invitation-create",
    "invitation-list",
    "invitation-revoke",
    "invitation-received",
    "invitation-accept",
    "invitation-decline",
    "invitation-announce",
    "list-delete",
    "reminders",
    "reminders-shard",
    "housekeeping",
    "user-me-delete",
    "account-purge",
    "web",
];

/// The packages holding the function binaries (built together, without the local server,
/// so no feature of the local build leaks into them).
/// `-p <package>` for every package with a function binary (and the floor's).
fn package_args() -> Vec<String> {
    PACKAGES.iter().flat_map(|p| ["-p".to_owned(), (*p).to_owned()]).collect()
}

/// Today's date (UTC), as the reports are dated.
fn today() -> anyhow::Result<String> {
    Ok(String::from_utf8(Command::new("date").arg("-u").arg("+%Y-%m-%d").output()?.stdout)?.trim().to_owned())
}

/// The functions `Fixture::prepare` and the scenarios call to make their data.
pub(crate) const FIXTURE_FUNCTIONS: &[&str] = &[
    "user-signup",
    "task-create",
    "task-update",
    "file-upload-url",
    "file-uploaded",
    "notification-list",
    "reminders-shard",
    "list-create",
    "invitation-create",
    "invitation-accept",
    "user-me-delete",
];

/// The runtime-only binary every function's init is compared with.
const FLOOR: &str = "runtime-floor";

/// Node 20 with the AWS SDK for JavaScript v3 reading a task (`infra/bench-node`): the
/// reference the functions' CPU per warm call is compared with, measured in the same run.
pub const NODE_REFERENCE: &str = "node20-task-get";

/// The Node reference's script, beside its installed `node_modules` (ES modules resolve
/// packages from the script's folder up), and the `node` to run it with.
static NODE: std::sync::OnceLock<(PathBuf, PathBuf)> = std::sync::OnceLock::new();

/// Installs the Node reference's pinned SDK (once per change of its `package.json`) under
/// the tools dir, never in the clone.
fn install_node_reference(sh: &Shell) -> anyhow::Result<()> {
    let source = crate::workspace_root().join("infra/bench-node");
    let into = crate::tools_dir().join("bench-node");
    crate::web::npm_install(sh, &source, &into)?;
    std::fs::copy(source.join("bootstrap.mjs"), into.join("bootstrap.mjs"))?;
    let node = PathBuf::from(cmd!(sh, "which node").quiet().read().context("no node on PATH")?.trim());
    let version = cmd!(sh, "{node} --version").quiet().read()?;
    ensure!(version.starts_with("v20."), "the reference is Node 20; {} is {version}", node.display());
    let _ = NODE.set((node, into.join("bootstrap.mjs")));
    Ok(())
}

/// The process a cold start runs: the function's binary, or `node` with the reference's script.
fn function_command(fixture: &Fixture, binary: &str) -> anyhow::Result<Command> {
    if binary == NODE_REFERENCE {
        let (node, script) = NODE.get().context("the Node reference is not installed")?;
        let mut command = Command::new(node);
        command.arg(script);
        Ok(command)
    } else {
        Ok(Command::new(fixture.bins.join(binary)))
    }
}

const PACKAGES: &[&str] = &[
    "runtime-floor",
    "todo-users",
    "todo-lists",
    "todo-tasks",
    "todo-files",
    "todo-notifications",
    "todo-sharing",
    "todo-jobs",
    "todo-web",
];

#[derive(Clone)]
pub struct Options {
    pub functions: Vec<String>,
    pub cold_starts: usize,
    pub warm: usize,
    /// Measure the debug build instead of building the release one (the smoke run).
    pub debug: bool,
    /// Measure the release binaries already built (for comparing builds).
    pub no_build: bool,
    /// Count the instructions of the warm calls under callgrind instead (`--instructions`):
    /// the profiling build, no cold starts, a table on stdout and callgrind's reports kept
    /// for `callgrind_annotate`. CPU time on this VM varies ±20% between runs; instruction
    /// counts repeat, so they compare builds.
    pub instructions: bool,
    pub out_dir: PathBuf,
}

impl Options {
    pub fn full() -> Self {
        Self {
            functions: FUNCTIONS.iter().map(|f| (*f).to_owned()).collect(),
            cold_starts: 10,
            warm: 200,
            debug: false,
            no_build: false,
            instructions: false,
            out_dir: crate::workspace_root().join("docs/bench"),
        }
    }

    /// One function, a few iterations, on the debug build: proves the harness works.
    pub fn smoke() -> Self {
        let target = crate::target_dir();
        Self {
            functions: vec![FLOOR.to_owned(), NODE_REFERENCE.to_owned(), "task-get".to_owned()],
            cold_starts: 2,
            warm: 5,
            debug: true,
            no_build: false,
            instructions: false,
            out_dir: target.join("bench-smoke"),
        }
    }
}

/// What is shared by every function process: the binaries, their environment, and the
/// data they act on.
pub struct Fixture {
    bins: PathBuf,
    env: Vec<(String, String)>,
    nonce: String,
    /// Tasks made for scenarios so far (their idempotency keys are numbered).
    tasks_created: usize,
    /// Accounts made for scenarios so far (their emails are numbered).
    people_made: usize,
    pub email: String,
    pub access_token: String,
    pub refresh_token: String,
    pub user_id: String,
    pub task_id: String,
    pub file_id: String,
    pub notification_id: String,
}

/// One function process under its own Runtime API emulator.
pub struct Instance {
    child: Child,
    api: RuntimeApi,
    pub init: Duration,
    invocations: usize,
}

impl Instance {
    pub fn start(fixture: &Fixture, binary: &str) -> anyhow::Result<Self> {
        Self::start_with(fixture, binary, &[])
    }

    /// Starts with `extra` environment on top of the fixture's.
    pub fn start_with(fixture: &Fixture, binary: &str, extra: &[(String, String)]) -> anyhow::Result<Self> {
        Self::spawn(fixture, binary, extra, function_command(fixture, binary)?, Duration::from_secs(20))
    }

    /// Starts `command` as `binary`'s process, waiting up to `patience` for it to ask for work.
    fn spawn(
        fixture: &Fixture,
        binary: &str,
        extra: &[(String, String)],
        mut command: Command,
        patience: Duration,
    ) -> anyhow::Result<Self> {
        let api = RuntimeApi::start()?;
        // Node reads extra roots from its own variable, not the SDK's `AWS_CA_BUNDLE`.
        let node_roots = extra
            .iter()
            .filter(|(k, _)| k == "AWS_CA_BUNDLE" && binary == NODE_REFERENCE)
            .map(|(_, v)| ("NODE_EXTRA_CA_CERTS", v.as_str()));
        let spawned = Instant::now();
        // Only what Lambda would set: this machine's environment (SSL_CERT_DIR, AWS_CA_BUNDLE, ...)
        // would otherwise change what a cold start does.
        let child = command
            .env_clear()
            .envs(fixture.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .envs(extra.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .envs(node_roots)
            .env("AWS_LAMBDA_RUNTIME_API", &api.address)
            .env("AWS_LAMBDA_FUNCTION_NAME", binary)
            .stdin(Stdio::null())
            .stdout(function_log(binary)?)
            .stderr(function_log(binary)?)
            .spawn()
            .with_context(|| format!("cannot start {binary}"))?;
        let mut instance = Self { child, api, init: Duration::ZERO, invocations: 0 };
        let ready = instance.api.wait_for_next(patience).with_context(|| format!("{binary} did not start"))?;
        instance.init = ready - spawned;
        Ok(instance)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// One invocation; returns once the process has asked for the next one.
    pub fn invoke(&mut self, event: &str) -> anyhow::Result<Invocation> {
        self.invocations += 1;
        let id = format!("bench-{}-{}", self.pid(), self.invocations);
        let invocation = self.api.invoke(&id, event, Duration::from_secs(30))?;
        self.api.wait_for_next(Duration::from_secs(30))?;
        Ok(invocation)
    }

    /// One invocation that must succeed; its answer (an HTTP response's JSON body, or the
    /// event handler's output).
    pub fn call(&mut self, event: &str) -> anyhow::Result<Value> {
        let invocation = self.invoke(event)?;
        answer(&invocation)
    }
}

impl Drop for Instance {
    /// As Lambda ends an environment: SIGTERM, then SIGKILL if the process lingers (a
    /// profiler wrapping the function, such as callgrind, writes its report on SIGTERM).
    fn drop(&mut self) {
        crate::process::terminate(&mut self.child, Duration::from_secs(5));
    }
}

/// Where a function's own log goes: nowhere, or (with `TODO_BENCH_LOGS=<dir>`) appended to
/// `<dir>/<binary>.log`, to see why a fixture's call failed.
fn function_log(binary: &str) -> anyhow::Result<Stdio> {
    let Some(dir) = std::env::var_os("TODO_BENCH_LOGS") else { return Ok(Stdio::null()) };
    std::fs::create_dir_all(&dir)?;
    let file = std::fs::OpenOptions::new().create(true).append(true).open(std::path::Path::new(&dir).join(format!("{binary}.log")))?;
    Ok(Stdio::from(file))
}

/// An invocation's useful answer, or an error naming what went wrong.
fn answer(invocation: &Invocation) -> anyhow::Result<Value> {
    let text = String::from_utf8_lossy(&invocation.body);
    ensure!(!invocation.error, "the function failed: {text}");
    let value: Value = serde_json::from_str(&text).with_context(|| format!("not JSON: {text}"))?;
    match value.get("statusCode").and_then(Value::as_u64) {
        Some(status) => {
            let body = value["body"].as_str().unwrap_or_default();
            ensure!(status < 400, "HTTP {status}: {body}");
            Ok(if body.is_empty() { Value::Null } else { serde_json::from_str(body).unwrap_or(Value::Null) })
        }
        None => Ok(value),
    }
}

/// Figures for one function.
#[derive(Debug)]
struct Figures {
    binary: String,
    init: Vec<Duration>,
    /// Cold starts whose store endpoint (and so the secret's) is HTTPS, as on AWS: HTTP
    /// functions' init then includes a TLS handshake and the `GetSecretValue` call.
    init_tls: Vec<Duration>,
    /// The runtime-only floor's init, one cold start beside each of this function's
    /// (alternately before and after): a ratio of neighbours, not of runs minutes apart on
    /// a machine whose load drifts.
    floor_init: Vec<Duration>,
    first: Vec<Duration>,
    /// The first call of a cold process whose store endpoint is HTTPS.
    first_tls: Vec<Duration>,
    warm: Vec<Duration>,
    cpu_per_warm: Duration,
    /// With `--instructions`: the warm calls' instructions (all of them) and callgrind's report.
    instructions: Option<(u64, PathBuf)>,
    peak_rss_kib: u64,
    calls_per_invocation: BTreeMap<String, f64>,
    /// DynamoDB round trips per warm call: calls issued together count once (proxy.rs).
    dynamodb_round_trips: f64,
    /// The stripped binary and its zip (none for the Node reference).
    binary_bytes: Option<u64>,
    zip_bytes: Option<u64>,
}

/// What every function process gets, as Lambda and the template would set it: the signing
/// keys are in the secret `table` (read at cold start, through the relay, like the stores);
/// the reminders job's shards go to the queue at `shards_queue`.
fn function_env(table: &str, endpoint: &str, shards_queue: &str) -> Vec<(String, String)> {
    [
        ("TODO_REMINDER_QUEUE_URL", shards_queue),
        ("TODO_STORE", "dynamodb"),
        ("TABLE_NAME", table),
        ("BUCKET_NAME", table),
        ("TODO_S3_PATH_STYLE", "true"),
        ("TODO_TOKEN_SECRET_ID", table),
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/bench"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench"),
        ("AWS_LAMBDA_LOG_LEVEL", "WARN"),
        // As template.yaml sets it (see there).
        ("MALLOC_MMAP_THRESHOLD_", "131072"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// The TLS front (`infra/scripts/tls_relay.py`) on the counting relay, with its own CA.
struct TlsRelay {
    child: Child,
    port: u16,
    ca: PathBuf,
}

impl TlsRelay {
    fn start(sh: &Shell, upstream: &str) -> anyhow::Result<Self> {
        use std::io::BufRead as _;
        let python = crate::emulator::python(sh, &crate::tools_dir())?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let (host, upstream_port) = upstream.trim_start_matches("http://").split_once(':').context("host:port")?;
        let certs = std::env::temp_dir().join(format!("todo-bench-tls-{}", std::process::id()));
        let mut child = Command::new(python)
            .arg(crate::workspace_root().join("infra/scripts/tls_relay.py"))
            .args([&port.to_string(), host, upstream_port])
            .arg(&certs)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting the TLS relay")?;
        let mut ready = String::new();
        std::io::BufReader::new(child.stdout.take().context("stdout")?).read_line(&mut ready)?;
        ensure!(ready.trim() == "ready", "the TLS relay did not start");
        Ok(Self { child, port, ca: certs.join("ca.pem") })
    }

    /// What points a function at the store over TLS, trusting the relay's CA besides the
    /// built-in Amazon roots.
    fn env(&self) -> Vec<(String, String)> {
        vec![
            ("AWS_ENDPOINT_URL".to_owned(), format!("https://localhost:{}", self.port)),
            ("AWS_CA_BUNDLE".to_owned(), self.ca.display().to_string()),
        ]
    }
}

impl Drop for TlsRelay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Measures `options.functions`, each against its own emulator from `start_emulator`.
pub fn run(sh: &Shell, options: &Options, start_emulator: &dyn Fn() -> anyhow::Result<crate::emulator::Moto>) -> anyhow::Result<()> {
    let target = crate::target_dir();
    if options.instructions {
        return instructions::run(sh, options, start_emulator);
    }
    let bins = if options.debug {
        target.join("debug")
    } else if options.no_build {
        target.join("release")
    } else {
        let packages = package_args();
        // Only the binaries measured, with every package selected all the same, so that
        // features unify as in a full build.
        let bins: Vec<String> = if options.functions.len() == FUNCTIONS.len() {
            vec!["--bins".to_owned()]
        } else {
            // The measured ones, the floor started beside each cold start, and those the
            // fixtures are made with.
            let mut wanted: Vec<&str> = options
                .functions
                .iter()
                .map(String::as_str)
                .filter(|f| *f != NODE_REFERENCE)
                .chain([FLOOR])
                .chain(FIXTURE_FUNCTIONS.iter().copied())
                .collect();
            wanted.sort_unstable();
            wanted.dedup();
            wanted.iter().flat_map(|f| ["--bin".to_owned(), (*f).to_owned()]).collect()
        };
        let started = Instant::now();
        cmd!(sh, "cargo build --release {packages...} {bins...}").run().context("release build failed")?;
        eprintln!("release build of the function binaries: {:.0} s", started.elapsed().as_secs_f64());
        target.join("release")
    };
    if options.functions.iter().any(|f| f == NODE_REFERENCE) {
        install_node_reference(sh)?;
    }
    let invocations = options.cold_starts * 2 + 1 + options.warm;
    let mut results = Vec::new();
    let mut failures = Vec::new();
    for binary in &options.functions {
        eprintln!("measuring {binary}");
        // A fresh emulator (and relays) per function: moto's server never gives back the
        // memory of the tables it held (a full run once grew it past 24 GB and the kernel
        // killed it), and moto copies a whole table on every transaction, so one function's
        // fixture must weigh on neither the memory nor the timing of the next.
        // One function failing (its emulator, fixture or measurement) is reported with the
        // others' figures, not instead of them.
        match measure_alone(sh, binary, &bins, start_emulator, invocations, options) {
            Ok(figures) => results.push(figures),
            Err(error) => {
                eprintln!("{error:#}");
                failures.push(format!("{error:#}"));
            }
        }
    }
    let violations = check(&results)?;
    let local = if options.debug {
        local_server::measure(&bins.join("todo-local"), 2, 50)?
    } else {
        if !options.no_build || !bins.join("todo-local").exists() {
            cmd!(sh, "cargo build --release -p todo-local").run().context("release build of the local server failed")?;
        }
        local_server::measure(&bins.join("todo-local"), 8, 2500)?
    };
    report(&results, &local, options)?;
    let problems: Vec<String> = failures.into_iter().chain(violations).collect();
    if !problems.is_empty() {
        bail!("the benchmark's checks failed:\n{}", problems.join("\n"));
    }
    Ok(())
}

/// One function against an emulator of its own, from a fresh fixture.
fn measure_alone(
    sh: &Shell,
    binary: &str,
    bins: &std::path::Path,
    start_emulator: &dyn Fn() -> anyhow::Result<crate::emulator::Moto>,
    invocations: usize,
    options: &Options,
) -> anyhow::Result<Figures> {
    let moto = start_emulator().with_context(|| format!("starting the emulator for {binary}"))?;
    let proxy = CountingProxy::start(&moto.endpoint)?;
    let tls = TlsRelay::start(sh, &proxy.endpoint)?;
    let nonce = format!("{}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis());
    let table = format!("bench-{nonce}");
    create_table_and_bucket(&moto.endpoint, &table, &table)?;
    create_secret(&moto.endpoint, &table, LOCAL_SIGNING_KEY)?;
    let shards_queue = create_queue(&moto.endpoint, &table)?;
    let mut fixture = Fixture::prepare(bins.to_path_buf(), function_env(&table, &proxy.endpoint, &shards_queue), nonce)?;
    let mut scenario =
        scenario::scenario(binary, &mut fixture, invocations).with_context(|| format!("preparing the fixture of {binary}"))?;
    proxy.take();
    measure(sh, &fixture, &proxy, &tls, &mut scenario, options).with_context(|| format!("measuring {binary}"))
}

fn measure(
    sh: &Shell,
    fixture: &Fixture,
    proxy: &CountingProxy,
    tls: &TlsRelay,
    scenario: &mut scenario::Scenario,
    options: &Options,
) -> anyhow::Result<Figures> {
    let binary = scenario.binary.clone();
    let (mut init, mut init_tls, mut floor_init, mut first, mut first_tls) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // Cold starts alternate between plain HTTP and TLS to the store (as on AWS).
    for i in 0..options.cold_starts * 2 {
        let over_tls = i % 2 == 1;
        let extra = if over_tls { tls.env() } else { Vec::new() };
        // The floor's neighbouring start goes before this one in every other HTTP cold
        // start and after it in the rest, so that neither position's conditions (what the
        // previous process left behind) favour one side of the ratio.
        let floor_first = !over_tls && binary != FLOOR && i % 4 == 0;
        if floor_first {
            floor_init.push(Instance::start(fixture, FLOOR)?.init);
        }
        let mut instance = Instance::start_with(fixture, &binary, &extra)?;
        let invocation = instance.invoke(&scenario.event(i))?;
        scenario.learn(&answer(&invocation).with_context(|| format!("cold invocation {i} (TLS: {over_tls})"))?);
        if over_tls {
            init_tls.push(instance.init);
            first_tls.push(invocation.latency);
        } else {
            init.push(instance.init);
            first.push(invocation.latency);
            drop(instance);
            if binary != FLOOR && !floor_first {
                floor_init.push(Instance::start(fixture, FLOOR)?.init);
            }
        }
    }
    let mut instance =
        if options.instructions { instructions::start_under_callgrind(fixture, &binary)? } else { Instance::start(fixture, &binary)? };
    let warm_up = instance.invoke(&scenario.event(options.cold_starts * 2))?;
    scenario.learn(&answer(&warm_up)?);
    proxy.take();
    if options.instructions {
        instructions::zero(instance.pid())?;
    }
    let cpu_before = cpu_time(instance.pid())?;
    let mut warm = Vec::with_capacity(options.warm);
    for j in 0..options.warm {
        let invocation = instance.invoke(&scenario.event(options.cold_starts * 2 + 1 + j))?;
        scenario.learn(&answer(&invocation).with_context(|| format!("warm invocation {j}"))?);
        warm.push(invocation.latency);
    }
    let cpu = cpu_time(instance.pid())?.saturating_sub(cpu_before);
    let instructions = if options.instructions { Some(instructions::dump(instance.pid(), &binary)?) } else { None };
    let peak_rss_kib = peak_rss_kib(instance.pid())?;
    let round_trips = proxy.take_round_trips();
    let calls = proxy.take();
    drop(instance);
    let (binary_bytes, zip_bytes) = if binary == NODE_REFERENCE {
        (None, None)
    } else {
        let path = fixture.bins.join(&binary);
        (Some(std::fs::metadata(&path)?.len()), Some(zipped_size(sh, &path)?))
    };
    #[allow(clippy::cast_precision_loss)]
    let calls_per_invocation = calls.into_iter().map(|(name, count)| (name, count as f64 / options.warm as f64)).collect();
    Ok(Figures {
        binary,
        init,
        init_tls,
        floor_init,
        first,
        first_tls,
        warm,
        cpu_per_warm: cpu / u32::try_from(options.warm).unwrap_or(u32::MAX),
        instructions,
        peak_rss_kib,
        calls_per_invocation,
        #[allow(clippy::cast_precision_loss)]
        dynamodb_round_trips: round_trips as f64 / options.warm as f64,
        binary_bytes,
        zip_bytes,
    })
}

/// The process's CPU time so far, all its threads (user + system, nanosecond resolution
/// from the scheduler). `/proc/<pid>/schedstat` alone is the main thread's: it missed the
/// password hashes (tokio's blocking pool) and Node's helper threads. A thread that exited
/// takes its time with it; tokio's blocking threads live 10 s idle, and the warm calls run
/// back to back, so none exits during the measurement.
fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let mut nanos = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).context("reading /proc/<pid>/task (Linux only)")? {
        // A thread may end between listing and reading.
        let Ok(stat) = std::fs::read_to_string(task?.path().join("schedstat")) else { continue };
        nanos += stat.split_whitespace().next().context("empty schedstat")?.parse::<u64>()?;
    }
    Ok(Duration::from_nanos(nanos))
}

fn peak_rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:")).context("no VmHWM")?;
    Ok(line.split_whitespace().nth(1).context("VmHWM value")?.parse()?)
}

/// The size of `bootstrap` zipped as `sam build` packages it (deflate).
fn zipped_size(sh: &Shell, binary: &std::path::Path) -> anyhow::Result<u64> {
    let zip = std::env::temp_dir().join(format!("bench-{}.zip", std::process::id()));
    let script = "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[2], 'w', zipfile.ZIP_DEFLATED, compresslevel=9) as z: z.write(sys.argv[1], 'bootstrap')";
    cmd!(sh, "python3 -c {script} {binary} {zip}").quiet().run()?;
    let size = std::fs::metadata(&zip)?.len();
    std::fs::remove_file(&zip)?;
    Ok(size)
}

fn percentile(samples: &[Duration], p: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// DynamoDB round trips a read path may take: one (the membership check is read beside the
/// item, not before it), but reads where one answer names what to read next.
fn read_round_trips(binary: &str) -> f64 {
    match binary {
        // Its page of memberships names the lists to fetch.
        "list-list"
        // Its page of members names the profiles to read (for names).
        | "member-list"
        // The caller's address (their profile) names the invitations to query.
        | "invitation-received"
        // The caller's memberships name the lists to query (25 at a time).
        | "task-search" => 2.0,
        _ => 1.0,
    }
}

/// Fails the benchmark when a read path takes more DynamoDB round trips than its budget or
/// anything Scans.
fn check(results: &[Figures]) -> anyhow::Result<Vec<String>> {
    let mut violations = Vec::new();
    for figures in results {
        let binary = &figures.binary;
        let read = binary != FLOOR && scenario::is_read(&scenario::sample(binary)?);
        // A read made of sequential calls measures 2.0 or more; a stray over-count (a call
        // issued together with another but read by the relay after the first answer, see
        // proxy.rs) must not fail a run of a few calls.
        let budget = read_round_trips(binary);
        if read && figures.dynamodb_round_trips > budget + 0.5 {
            violations.push(format!(
                "{binary} is a read path but makes {} DynamoDB round trips per invocation (at most {budget})",
                figures.dynamodb_round_trips
            ));
        }
        if figures.calls_per_invocation.contains_key("dynamodb:Scan") {
            violations.push(format!("{binary} Scans"));
        }
    }
    Ok(violations)
}

/// The run's figures as `functions.json` holds them, then rendered (`report.rs`).
fn report(results: &[Figures], local: &local_server::Throughput, options: &Options) -> anyhow::Result<()> {
    let rows: Vec<Value> = results
        .iter()
        .map(|figures| {
            let init = percentile(&figures.init, 0.5);
            let floor = if figures.binary == FLOOR { init } else { percentile(&figures.floor_init, 0.5) };
            json!({
                "function": figures.binary,
                "init_ms": figures.init.iter().map(|d| ms(*d)).collect::<Vec<_>>(),
                "init_tls_ms": figures.init_tls.iter().map(|d| ms(*d)).collect::<Vec<_>>(),
                "floor_init_ms": figures.floor_init.iter().map(|d| ms(*d)).collect::<Vec<_>>(),
                "init_over_floor": init.as_secs_f64() / floor.as_secs_f64(),
                "first_call_ms": figures.first.iter().map(|d| ms(*d)).collect::<Vec<_>>(),
                "first_call_tls_ms": figures.first_tls.iter().map(|d| ms(*d)).collect::<Vec<_>>(),
                "warm_p50_ms": ms(percentile(&figures.warm, 0.5)),
                "warm_p99_ms": ms(percentile(&figures.warm, 0.99)),
                "cpu_per_warm_call_ms": ms(figures.cpu_per_warm),
                "peak_rss_kib": figures.peak_rss_kib,
                "aws_calls_per_call": figures.calls_per_invocation,
                "dynamodb_round_trips_per_call": figures.dynamodb_round_trips,
                "binary_bytes": figures.binary_bytes,
                "zip_bytes": figures.zip_bytes,
            })
        })
        .collect();
    let mut document = json!({
        "date": today()?,
        "machine": machine_description(),
        "debug_build": options.debug,
        "cold_starts": options.cold_starts,
        "warm": options.warm,
        "functions": rows,
        "local_server": {
            "connections": local.connections,
            "requests": local.requests,
            "requests_per_second": local.requests_per_second,
            "p50_ms": ms(local.p50),
            "p99_ms": ms(local.p99),
        },
    });
    report::write(&mut document, &options.out_dir)
}

fn machine_description() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| info.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned()))
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    format!("{cpu}, {cores} cores")
}

/// A DynamoDB table (keys, the `schedule` and `open` indexes, as `template.yaml` declares) and an S3
/// bucket on the emulator, created with plain HTTP calls (moto does not check signatures).
pub fn create_table_and_bucket(endpoint: &str, table: &str, bucket: &str) -> anyhow::Result<()> {
    let key = |name: &str, kind: &str| json!({"AttributeName": name, "KeyType": kind});
    let attributes: Vec<Value> = ["PK", "SK", "sched_pk", "sched_sk", "open_pk", "open_sk"]
        .map(|name| json!({"AttributeName": name, "AttributeType": "S"}))
        .to_vec();
    let definition = json!({
        "TableName": table,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": attributes,
        "KeySchema": [key("PK", "HASH"), key("SK", "RANGE")],
        "GlobalSecondaryIndexes": [{
            "IndexName": "schedule",
            "KeySchema": [key("sched_pk", "HASH"), key("sched_sk", "RANGE")],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }, {
            "IndexName": "open",
            "KeySchema": [key("open_pk", "HASH"), key("open_sk", "RANGE")],
            "Projection": {"ProjectionType": "ALL"},
        }],
    });
    let headers = [
        ("x-amz-target", "DynamoDB_20120810.CreateTable"),
        ("content-type", "application/x-amz-json-1.0"),
        ("authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0"),
    ];
    let (status, body) = http(endpoint, "POST", "/", &headers, definition.to_string().as_bytes())?;
    ensure!(status == 200, "create table: {status} {}", String::from_utf8_lossy(&body));
    let (status, body) = http(endpoint, "PUT", &format!("/{bucket}"), &[], b"")?;
    ensure!(status == 200, "create bucket: {status} {}", String::from_utf8_lossy(&body));
    Ok(())
}

/// The key the benchmark's and `sam local`'s functions read from the emulator's Secrets
/// Manager (`TODO_TOKEN_SECRET_ID`), as deployed functions read theirs.
pub const LOCAL_SIGNING_KEY: &str = "local-only-not-a-secret-change-me-000000";

/// A Secrets Manager secret `name` holding `value` on the emulator (a plain call: moto does
/// not check signatures).
pub fn create_secret(endpoint: &str, name: &str, value: &str) -> anyhow::Result<()> {
    let headers = [
        ("x-amz-target", "secretsmanager.CreateSecret"),
        ("content-type", "application/x-amz-json-1.1"),
        (
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=0",
        ),
    ];
    let body = json!({"Name": name, "SecretString": value}).to_string();
    let (status, answer) = http(endpoint, "POST", "/", &headers, body.as_bytes())?;
    ensure!(status == 200, "create secret {name}: {status} {}", String::from_utf8_lossy(&answer));
    Ok(())
}

/// An SQS queue `name` on the emulator (a plain call); its URL.
pub fn create_queue(endpoint: &str, name: &str) -> anyhow::Result<String> {
    let headers = [
        ("x-amz-target", "AmazonSQS.CreateQueue"),
        ("content-type", "application/x-amz-json-1.0"),
        ("authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0"),
    ];
    let (status, answer) = http(endpoint, "POST", "/", &headers, json!({"QueueName": name}).to_string().as_bytes())?;
    ensure!(status == 200, "create queue {name}: {status} {}", String::from_utf8_lossy(&answer));
    let answer: Value = serde_json::from_slice(&answer)?;
    Ok(answer["QueueUrl"].as_str().context("CreateQueue answered no QueueUrl")?.to_owned())
}

/// The `count` messages the reminders job put on the emulator's queue at `queue_url` (each
/// received, so hidden for five minutes; not deleted), as the SQS event the queue would hand
/// a worker: one minute's shards in one event.
pub fn shards_event(endpoint: &str, queue_url: &str, count: u64) -> anyhow::Result<String> {
    let headers = [
        ("x-amz-target", "AmazonSQS.ReceiveMessage"),
        ("content-type", "application/x-amz-json-1.0"),
        ("authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0"),
    ];
    let receive = json!({"QueueUrl": queue_url, "MaxNumberOfMessages": 10, "VisibilityTimeout": 300}).to_string();
    let mut records = Vec::new();
    let mut shards = std::collections::BTreeSet::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while (shards.len() as u64) < count {
        ensure!(std::time::Instant::now() < deadline, "{} of {count} shards' messages arrived on {queue_url}", shards.len());
        let (status, answer) = http(endpoint, "POST", "/", &headers, receive.as_bytes())?;
        ensure!(status == 200, "receive from {queue_url}: {status} {}", String::from_utf8_lossy(&answer));
        let answer: Value = serde_json::from_slice(&answer)?;
        for message in answer["Messages"].as_array().into_iter().flatten() {
            // A retried send may put a shard's message twice: the event carries each once.
            let body: Value = serde_json::from_str(message["Body"].as_str().context("a message body")?)?;
            if shards.insert(body["shard"].as_u64().context("a shard message")?) {
                records.push(json!({"messageId": message["MessageId"], "body": message["Body"], "eventSource": "aws:sqs"}));
            }
        }
    }
    Ok(json!({ "Records": records }).to_string())
}

/// PUTs `body` to an upload answer's `{url, headers}` (the API's `upload` object) on a
/// plain-HTTP emulator, with exactly the headers it names; the answer's status.
pub fn put_upload(upload: &Value, body: &[u8]) -> anyhow::Result<u16> {
    let url = upload["url"].as_str().context("upload url")?;
    let (authority, path) = url.strip_prefix("http://").and_then(|rest| rest.split_once('/')).context("emulator URLs are plain HTTP")?;
    let headers: Vec<(&str, &str)> = upload["headers"]
        .as_object()
        .context("upload headers")?
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str().unwrap_or_default()))
        .collect();
    Ok(http(&format!("http://{authority}"), "PUT", &format!("/{path}"), &headers, body)?.0)
}

/// One HTTP/1.1 exchange (`Connection: close`).
pub fn http(endpoint: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> anyhow::Result<(u16, Vec<u8>)> {
    use std::fmt::Write as _;
    use std::io::{Read as _, Write as _};
    let authority = endpoint.trim_start_matches("http://").split('/').next().unwrap_or_default().to_owned();
    let mut stream = std::net::TcpStream::connect(&authority)?;
    // A wedged server (an emulator, `sam local start-api`) fails the caller instead of hanging it.
    stream.set_read_timeout(Some(std::time::Duration::from_secs(60)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nhost: {authority}\r\nconnection: close\r\ncontent-length: {}\r\n", body.len());
    for (name, value) in headers.iter().filter(|(name, _)| !name.eq_ignore_ascii_case("content-length")) {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").context("no response head")?;
    let status = std::str::from_utf8(&response[..split])?.split_whitespace().nth(1).context("no status")?.parse()?;
    Ok((status, response[split + 4..].to_vec()))
}

impl Fixture {
    /// Signs up the benchmark's user and gives it a task, an uploaded file and a
    /// notification, through the functions themselves.
    fn prepare(bins: PathBuf, env: Vec<(String, String)>, nonce: String) -> anyhow::Result<Self> {
        let email = format!("bench-{nonce}@example.com");
        let mut fixture = Self {
            bins,
            env,
            nonce,
            tasks_created: 0,
            people_made: 0,
            email: email.clone(),
            access_token: String::new(),
            refresh_token: String::new(),
            user_id: String::new(),
            task_id: String::new(),
            file_id: String::new(),
            notification_id: String::new(),
        };
        let signed_up = Instance::start(&fixture, "user-signup")?
            .call(&scenario::with_body(&scenario::sample("user-signup")?, &json!({"email": email, "password": "correct horse battery"})))?;
        signed_up["access_token"].as_str().context("access token")?.clone_into(&mut fixture.access_token);
        signed_up["refresh_token"].as_str().context("refresh token")?.clone_into(&mut fixture.refresh_token);
        signed_up["user"]["id"].as_str().context("user id")?.clone_into(&mut fixture.user_id);
        let event = fixture.replace_tokens(&scenario::sample("task-create")?);
        let task = Instance::start(&fixture, "task-create")?.call(&scenario::with_header(&event, "idempotency-key", &fixture.nonce))?;
        task["id"].as_str().context("task id")?.clone_into(&mut fixture.task_id);
        // A reminder in the past: the reminders job has something to send.
        let event = fixture.replace_tokens(&scenario::sample("task-update")?).replace(scenario::SAMPLE_TASK_ID, &fixture.task_id);
        Instance::start(&fixture, "task-update")?.call(&scenario::with_body(&event, &json!({"reminder_at": "2026-01-01T09:00:00Z"})))?;
        let event = fixture.replace_tokens(&scenario::sample("file-upload-url")?).replace(scenario::SAMPLE_TASK_ID, &fixture.task_id);
        let requested = Instance::start(&fixture, "file-upload-url")?.call(&event)?;
        requested["file"]["id"].as_str().context("file id")?.clone_into(&mut fixture.file_id);
        let size = usize::try_from(requested["file"]["size"].as_u64().context("size")?)?;
        let status = put_upload(&requested["upload"], &vec![7u8; size])?;
        ensure!(status == 200, "uploading the fixture file: {status}");
        let uploaded = scenario::sample("file-uploaded")?
            .replace(scenario::SAMPLE_USER_ID, &fixture.user_id)
            .replace(scenario::SAMPLE_TASK_ID, &fixture.task_id)
            .replace(scenario::SAMPLE_FILE_ID, &fixture.file_id);
        Instance::start(&fixture, "file-uploaded")?.call(&uploaded)?;
        // The reminders job as on AWS: a message per shard, then the workers given them.
        let dispatched = Instance::start(&fixture, "reminders")?.call(&scenario::sample("reminders")?)?;
        let shards = dispatched["shards"].as_u64().context("the reminders job dispatched no shards")?;
        let queue = fixture.env("TODO_REMINDER_QUEUE_URL")?;
        let sent = Instance::start(&fixture, "reminders-shard")?.call(&shards_event(&fixture.env("AWS_ENDPOINT_URL")?, &queue, shards)?)?;
        ensure!(sent["outcome"]["sent"] == 1, "the fixture's reminder was not sent: {sent}");
        let feed =
            Instance::start(&fixture, "notification-list")?.call(&fixture.replace_tokens(&scenario::sample("notification-list")?))?;
        // The sample lists unread notifications: the reminder just sent.
        feed["items"][0]["id"].as_str().context("a notification")?.clone_into(&mut fixture.notification_id);
        Ok(fixture)
    }

    /// The value of `name` in the functions' environment.
    fn env(&self, name: &str) -> anyhow::Result<String> {
        self.env
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .with_context(|| format!("no {name} in the functions' environment"))
    }

    /// The fixture user's tokens, and their Inbox (whose id is theirs) as the samples' list.
    fn replace_tokens(&self, event: &str) -> String {
        event
            .replace("REPLACE_WITH_ACCESS_TOKEN", &self.access_token)
            .replace("REPLACE_WITH_REFRESH_TOKEN", &self.refresh_token)
            .replace(scenario::SAMPLE_USER_ID, &self.user_id)
    }
}

/// The arm64 `rustup` target `sam build` cross-compiles for.
pub fn add_arm64_target(sh: &Shell) -> anyhow::Result<()> {
    cmd!(sh, "rustup target add aarch64-unknown-linux-gnu")
        .run()
        .context("the arm64 standard library is needed (rustup target add aarch64-unknown-linux-gnu)")
}

/// The arm64 artifacts SAM CLI's own `sam build` makes (cargo-lambda, its zig linker, the
/// release profile): each function's `bootstrap` in `.aws-sam/build` and its zip, written to
/// `arm64.md`. Only sizes: this machine cannot run arm64 code at native speed.
pub fn arm64_sizes(sh: &Shell, options: &Options) -> anyhow::Result<()> {
    use std::fmt::Write as _;
    add_arm64_target(sh)?;
    let sam = crate::sam::Sam::install(sh, &crate::tools_dir())?;
    let build_seconds = sam.build_for_deploy(sh)?.as_secs_f64();
    let by_binary: std::collections::HashMap<String, String> =
        crate::sam::functions()?.into_iter().map(|(id, binary)| (binary, id)).collect();
    let date = today()?;
    let mut markdown = format!(
        "# arm64 artifacts\n\n{date}: SAM CLI {}'s `sam build` (its Rust builder: cargo-lambda {}, zig linker, `--release --arm64`); {build_seconds:.0} s for all {} functions on {}.\n\n| function | bootstrap MiB | zip MiB |\n|---|---|---|\n",
        crate::sam::SAM_CLI,
        crate::lambda_runtime::CARGO_LAMBDA,
        by_binary.len(),
        machine_description()
    );
    let mut rows = Vec::new();
    // The floor is the benchmark's own binary, not a function of the template.
    for function in options.functions.iter().filter(|function| *function != FLOOR) {
        let bootstrap = crate::workspace_root()
            .join(crate::sam::BUILD_DIR)
            .join(by_binary.get(function).with_context(|| format!("no function runs {function}"))?)
            .join("bootstrap");
        let bytes = std::fs::metadata(&bootstrap).with_context(|| format!("no arm64 build of {function}"))?.len();
        let zipped = zipped_size(sh, &bootstrap)?;
        #[allow(clippy::cast_precision_loss)]
        let (bytes_mib, zipped_mib) = (bytes as f64 / 1_048_576.0, zipped as f64 / 1_048_576.0);
        writeln!(markdown, "| {function} | {bytes_mib:.2} | {zipped_mib:.2} |")?;
        rows.push(json!({"function": function, "bootstrap_bytes": bytes, "zip_bytes": zipped}));
    }
    print!("{markdown}");
    std::fs::create_dir_all(&options.out_dir)?;
    std::fs::write(options.out_dir.join("arm64.md"), &markdown)?;
    std::fs::write(options.out_dir.join("arm64.json"), serde_json::to_string_pretty(&json!({"date": date, "functions": rows}))?)?;
    eprintln!("written to {}", options.out_dir.display());
    Ok(())
}
