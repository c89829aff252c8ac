//! schemathesis against the local server: every operation of the OpenAPI document it serves
//! (`/openapi.json`), with all of schemathesis's checks (no 5xx; status codes, headers,
//! content types and bodies as documented; valid data accepted and invalid data refused;
//! missing auth refused; resources reachable after their create), positive and negative
//! data, and the stateful phase following the document's links. Authenticated as a fresh
//! account with real tokens (`infra/fuzz/hooks.py`); settings in `infra/fuzz/schemathesis.toml`.

use std::path::Path;

use anyhow::Context as _;
use xshell::{Shell, cmd};

/// Pinned, from PyPI.
pub const SCHEMATHESIS: &str = "4.32.5";

/// How much to generate.
pub struct Options {
    /// Test cases per operation and phase.
    pub max_examples: u32,
    /// Fixed for the test command's quick pass, so CI is repeatable; random for a long run.
    pub seed: Option<u64>,
}

impl Options {
    /// The pass in `cargo xtask test`: every operation, about 3,000 cases in half a minute.
    pub fn quick() -> Self {
        Self { max_examples: 50, seed: Some(20_261_130) }
    }

    /// `cargo xtask fuzz`: over 10,000 cases (350 per operation and phase made 9,798 here).
    pub fn long() -> Self {
        Self { max_examples: 400, seed: None }
    }
}

pub fn run(sh: &Shell, tools_dir: &Path, options: &Options) -> anyhow::Result<()> {
    let probe = format!("import importlib.metadata as m; assert m.version('schemathesis') == '{SCHEMATHESIS}'");
    let package = format!("schemathesis=={SCHEMATHESIS}");
    let python = crate::python::environment(sh, tools_dir, "schemathesis", &probe, &[&package])?;
    // Tokens outlive the run: the fuzzer's own log-outs and password checks must not cut it off.
    let server = crate::web::LocalServer::start("86400")?;
    let fuzz_dir = crate::workspace_root().join("infra/fuzz");
    let report = crate::target_dir().join("fuzz");
    std::fs::create_dir_all(&report)?;
    let _hooks = sh.push_env("SCHEMATHESIS_HOOKS", "hooks");
    let _path = sh.push_env("PYTHONPATH", &fuzz_dir);
    let _base = sh.push_env("TODO_FUZZ_BASE_URL", &server.url);
    let config = fuzz_dir.join("schemathesis.toml");
    let url = &server.url;
    let schema = format!("{url}/openapi.json");
    let max_examples = options.max_examples.to_string();
    let seed: Vec<String> = options.seed.map(|seed| vec!["--seed".to_owned(), seed.to_string()]).unwrap_or_default();
    cmd!(
        sh,
        "{python} -m schemathesis.cli --config-file {config} run {schema} --url {url} --checks all --mode all
         --phases examples,coverage,fuzzing,stateful --max-examples {max_examples} {seed...} --workers 2
         --report junit --report-dir {report}"
    )
    .run()
    .context("schemathesis found problems (its report above; JUnit in <target>/fuzz)")?;
    drop(server);
    Ok(())
}
