//! Python tools the test command needs, pinned: the machine's own when it already has the
//! pinned versions, else a private venv under the target dir.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use xshell::{Shell, cmd};

/// A python3 that passes `probe` (a snippet that imports and checks versions), installing
/// `packages` into `<tools_dir>/<name>-venv` if the machine's python3 does not.
pub fn environment(sh: &Shell, tools_dir: &Path, name: &str, probe: &str, packages: &[&str]) -> anyhow::Result<PathBuf> {
    if cmd!(sh, "python3 -c {probe}").quiet().ignore_stderr().run().is_ok() {
        return Ok(PathBuf::from("python3"));
    }
    let venv = tools_dir.join(format!("{name}-venv"));
    let python = venv.join("bin/python3");
    if !python.exists() || cmd!(sh, "{python} -c {probe}").quiet().ignore_stderr().run().is_err() {
        eprintln!("installing {} into {}", packages.join(" "), venv.display());
        cmd!(sh, "python3 -m venv {venv}").run().context("python3 -m venv failed")?;
        cmd!(sh, "{python} -m pip install --quiet --disable-pip-version-check {packages...}")
            .run()
            .with_context(|| format!("installing {name} failed"))?;
        cmd!(sh, "{python} -c {probe}").run().with_context(|| format!("{name} installed but its probe fails"))?;
    }
    Ok(python)
}
