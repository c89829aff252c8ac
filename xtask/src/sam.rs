//! AWS SAM CLI, pinned and run as users run it: `sam validate --lint`, `sam build` (its own
//! Rust builder: `cargo lambda build --release [--arm64] --bin <Binary>` in each function's
//! `CodeUri`), `sam local invoke` and `sam local start-api`.
//!
//! SAM reaches out by itself: an STS call for the account id on every local invoke and a
//! PyPI version check. Both are kept on this machine (see `Sam::command`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, bail, ensure};
use xshell::{Shell, cmd};

pub const SAM_CLI: &str = "1.170.0";

/// The build `sam deploy` uploads (arm64).
pub const BUILD_DIR: &str = ".aws-sam/build";

/// A pinned SAM CLI with the environment it runs in here.
pub struct Sam {
    binary: PathBuf,
    env: Vec<(&'static str, OsString)>,
}

impl Sam {
    /// SAM CLI `SAM_CLI` from PyPI in a venv under `tools_dir` (the machine's own `sam` if it
    /// is that version), with cargo-lambda (and the zig it brings) first on PATH for its
    /// Rust builder.
    pub fn install(sh: &Shell, tools_dir: &Path) -> anyhow::Result<Self> {
        let cargo_lambda = crate::lambda_runtime::cargo_lambda(sh, tools_dir)?;
        let is_pinned = |binary: &Path| cmd!(sh, "{binary} --version").quiet().ignore_stderr().read().is_ok_and(|v| v.contains(SAM_CLI));
        let venv = tools_dir.join("sam-venv");
        let binary = match cmd!(sh, "which sam").quiet().ignore_stderr().read() {
            Ok(found) if is_pinned(Path::new(found.trim())) => PathBuf::from(found.trim()),
            _ => venv.join("bin/sam"),
        };
        if !is_pinned(&binary) {
            eprintln!("installing aws-sam-cli {SAM_CLI} into {} (about two minutes)", venv.display());
            cmd!(sh, "python3 -m venv {venv}").run().context("python3 -m venv failed")?;
            let python = venv.join("bin/python3");
            let package = format!("aws-sam-cli=={SAM_CLI}");
            cmd!(sh, "{python} -m pip install --quiet --disable-pip-version-check {package}").run().context("installing SAM CLI failed")?;
            ensure!(is_pinned(&binary), "SAM CLI {SAM_CLI} installed but does not run");
        }
        // SAM's settings (telemetry off, the version check dated far ahead: the `.0` matters)
        // in a folder of ours rather than the user's home.
        let app_dir = tools_dir.join("sam-app-dir");
        std::fs::create_dir_all(&app_dir)?;
        std::fs::write(app_dir.join("metadata.json"), r#"{"telemetryEnabled": false, "lastVersionCheck": 4102444800.0}"#)?;
        let tools = cargo_lambda.parent().context("cargo-lambda's folder")?.to_path_buf();
        let path =
            std::env::join_paths(std::iter::once(tools).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())))?;
        let env = vec![
            ("__SAM_CLI_APP_DIR", app_dir.into_os_string()),
            ("SAM_CLI_TELEMETRY", "0".into()),
            ("PATH", path),
            ("AWS_DEFAULT_REGION", "us-east-1".into()),
            ("AWS_REGION", "us-east-1".into()),
            // Handed to the functions by `sam local`: the emulator takes any.
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            // SAM asks STS for the account id on every invoke: a closed local port fails at once.
            ("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9".into()),
            ("AWS_MAX_ATTEMPTS", "1".into()),
        ];
        Ok(Self { binary, env })
    }

    /// `sam <args>` in the workspace root with SAM's environment.
    pub fn command<'a>(&self, sh: &'a Shell, args: &[&str]) -> xshell::Cmd<'a> {
        let binary = &self.binary;
        let mut command = cmd!(sh, "{binary} {args...}");
        for (name, value) in &self.env {
            command = command.env(name, value);
        }
        command
    }

    /// The same, as a `std::process::Command` (for a server left running: `start-api`).
    pub fn process(&self, args: &[&str]) -> std::process::Command {
        let mut command = std::process::Command::new(&self.binary);
        command.args(args).current_dir(crate::workspace_root()).envs(self.env.iter().map(|(name, value)| (name, value)));
        command
    }

    pub fn validate(&self, sh: &Shell) -> anyhow::Result<()> {
        self.command(sh, &["validate", "--lint"]).run().context("`sam validate --lint` found problems in template.yaml")
    }

    /// `sam build` of every function, as for `sam deploy` (arm64 into `BUILD_DIR`), timed.
    pub fn build_for_deploy(&self, sh: &Shell) -> anyhow::Result<std::time::Duration> {
        self.timed_build(sh, &["build"], function_ids()?.len())
    }

    /// `sam build --config-env local` of `functions` only (x86_64 into `.aws-sam-local/build`, as
    /// the README's local commands do), timed.
    pub fn build_local(&self, sh: &Shell, functions: &[&str]) -> anyhow::Result<std::time::Duration> {
        let all = function_ids()?;
        for function in functions {
            ensure!(all.iter().any(|id| id == function), "template.yaml has no function {function}");
        }
        // SAM builds one named resource, or all but the `--exclude`d ones.
        let mut args = vec!["build", "--config-env", "local"];
        for id in all.iter().filter(|id| !functions.contains(&id.as_str())) {
            args.extend(["--exclude", id.as_str()]);
        }
        self.timed_build(sh, &args, functions.len())
    }

    fn timed_build(&self, sh: &Shell, args: &[&str], count: usize) -> anyhow::Result<std::time::Duration> {
        let started = Instant::now();
        self.command(sh, args).run().context("`sam build` failed")?;
        let took = started.elapsed();
        eprintln!("{}: {count} functions in {:.0} s", args.join(" ").split(" --exclude").next().unwrap_or_default(), took.as_secs_f64());
        Ok(took)
    }
}

/// Every function in `template.yaml`, in order: its logical id and the binary it runs.
pub fn functions() -> anyhow::Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(crate::workspace_root().join("template.yaml"))?;
    let template: serde_yaml::Value = serde_yaml::from_str(&text).context("template.yaml does not parse")?;
    let resources = template["Resources"].as_mapping().context("no Resources")?;
    let functions: Vec<(String, String)> = resources
        .iter()
        .filter(|(_, resource)| resource["Type"] == "AWS::Serverless::Function")
        .filter_map(|(id, resource)| {
            Some((id.as_str()?.to_owned(), resource["Metadata"]["BuildProperties"]["Binary"].as_str()?.to_owned()))
        })
        .collect();
    if functions.is_empty() {
        bail!("template.yaml declares no function");
    }
    Ok(functions)
}

/// Every function's logical id in `template.yaml`, in order.
pub fn function_ids() -> anyhow::Result<Vec<String>> {
    Ok(functions()?.into_iter().map(|(id, _)| id).collect())
}
