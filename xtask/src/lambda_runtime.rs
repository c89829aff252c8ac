//! cargo-lambda, pinned: its `watch --only-lambda-apis` is the Lambda Runtime API emulator
//! the real function binaries are booted under in the test suite.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use xshell::{Shell, cmd};

pub const CARGO_LAMBDA: &str = "1.9.2";

/// The path of a `cargo-lambda` of the pinned version: the machine's, or one installed from
/// PyPI into a venv under `tools_dir`.
pub fn cargo_lambda(sh: &Shell, tools_dir: &Path) -> anyhow::Result<PathBuf> {
    let is_pinned = |binary: &Path| {
        cmd!(sh, "{binary} lambda --version").quiet().ignore_stderr().read().is_ok_and(|version| version.contains(CARGO_LAMBDA))
    };
    if let Ok(found) = cmd!(sh, "which cargo-lambda").quiet().ignore_stderr().read() {
        let found = PathBuf::from(found.trim());
        if is_pinned(&found) {
            return Ok(found);
        }
    }
    let venv = tools_dir.join("cargo-lambda-venv");
    let binary = venv.join("bin/cargo-lambda");
    if !is_pinned(&binary) {
        eprintln!("installing cargo-lambda {CARGO_LAMBDA} into {}", venv.display());
        cmd!(sh, "python3 -m venv {venv}").run().context("python3 -m venv failed")?;
        let python = venv.join("bin/python3");
        let package = format!("cargo-lambda=={CARGO_LAMBDA}");
        cmd!(sh, "{python} -m pip install --quiet --disable-pip-version-check {package}")
            .run()
            .context("installing cargo-lambda failed")?;
        if !is_pinned(&binary) {
            bail!("cargo-lambda {CARGO_LAMBDA} installed but does not run");
        }
    }
    Ok(binary)
}
