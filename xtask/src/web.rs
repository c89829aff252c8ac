//! The web app's checks: its JavaScript type-checked by `tsc --checkJs` (lint), and the app
//! driven in a real Chromium by Playwright against the local server (test). The npm tools
//! are pinned in `functions/web/package.json` and installed under the target dir, never in
//! the clone; Chromium is Debian's.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use xshell::{Shell, cmd};

fn web_dir() -> PathBuf {
    crate::workspace_root().join("functions/web")
}

/// `node_modules` with the pinned tools, installed once per change of `package.json`.
pub fn node_modules(sh: &Shell, tools_dir: &Path) -> anyhow::Result<PathBuf> {
    npm_install(sh, &web_dir(), &tools_dir.join("web-node"))
}

/// Installs the pinned packages of `package_dir/package.json` into `into` (outside the
/// clone), again only when the manifest (or its lockfile) changed; returns
/// `into/node_modules`. With a `package-lock.json` beside the manifest, exactly the locked
/// tree (`npm ci`).
pub fn npm_install(sh: &Shell, package_dir: &Path, into: &Path) -> anyhow::Result<PathBuf> {
    let manifest = std::fs::read_to_string(package_dir.join("package.json"))?;
    let lock = std::fs::read_to_string(package_dir.join("package-lock.json")).ok();
    let wanted = format!("{manifest}{}", lock.as_deref().unwrap_or_default());
    let stamp = into.join("installed-package.json");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        eprintln!("installing the npm packages of {} into {}", package_dir.display(), into.display());
        std::fs::create_dir_all(into)?;
        std::fs::write(into.join("package.json"), &manifest)?;
        let _dir = sh.push_dir(into);
        let installed = match &lock {
            Some(lock) => {
                std::fs::write(into.join("package-lock.json"), lock)?;
                cmd!(sh, "npm ci --no-audit --no-fund --ignore-scripts --loglevel=error").run()
            }
            None => cmd!(sh, "npm install --no-audit --no-fund --ignore-scripts --loglevel=error").run(),
        };
        installed.with_context(|| format!("npm install of {} failed", package_dir.display()))?;
        std::fs::write(&stamp, &wanted)?;
    }
    Ok(into.join("node_modules"))
}

/// `tsc --checkJs --noEmit` over the app's modules (`functions/web/tsconfig.json`).
pub fn type_check(sh: &Shell, tools_dir: &Path) -> anyhow::Result<()> {
    let tsc = node_modules(sh, tools_dir)?.join("typescript/bin/tsc");
    let config = web_dir().join("tsconfig.json");
    cmd!(sh, "node {tsc} --project {config}").run().context("the web app's JavaScript does not type-check")
}

/// Debian's Chromium, installed if missing.
fn chromium(sh: &Shell) -> anyhow::Result<PathBuf> {
    crate::container::install_debian_packages(sh, &["chromium"], "chromium")?;
    Ok(PathBuf::from(cmd!(sh, "which chromium").quiet().read()?.trim()))
}

/// The local server (`todo-local`) on a free port, stopped when dropped (or crashed).
pub struct LocalServer {
    child: Option<Child>,
    pub url: String,
    pub data: PathBuf,
    /// A fresh data dir the server owns (removed with it), unless the caller gave one.
    _owned: Option<TempDir>,
}

/// A scratch directory under the system temp dir, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A new, empty one, named after `what` and unique in this process.
    pub fn new(what: &str) -> anyhow::Result<Self> {
        let path = std::env::temp_dir().join(format!("todo-{what}-{}-{}", std::process::id(), crate::unique()));
        std::fs::create_dir_all(&path)?;
        Ok(Self(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// How long an access token lives in the browser tests: short, so refreshing is exercised.
const ACCESS_TOKEN_SECONDS: &str = "2";

impl LocalServer {
    /// The debug build on a fresh data dir; access tokens live `access_token_seconds`.
    pub fn start(access_token_seconds: &str) -> anyhow::Result<Self> {
        let data = TempDir::new("web-test")?;
        let path = data.0.clone();
        Self::launch(&crate::target_dir().join("debug/todo-local"), &path, access_token_seconds, Some(data))
    }

    /// `binary` on the data dir `data`, which outlives the server (a restart finds it again).
    pub fn start_on(binary: &Path, data: &Path, access_token_seconds: &str) -> anyhow::Result<Self> {
        Self::launch(binary, data, access_token_seconds, None)
    }

    fn launch(binary: &Path, data: &Path, access_token_seconds: &str, owned: Option<TempDir>) -> anyhow::Result<Self> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new(binary)
            .env("TODO_ADDR", format!("127.0.0.1:{port}"))
            .env("TODO_DATA_DIR", data)
            .env("TODO_ACCESS_TOKEN_SECONDS", access_token_seconds)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let server = Self { child: Some(child), url: format!("http://127.0.0.1:{port}"), data: data.to_owned(), _owned: owned };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!("the local server did not listen on {port}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(server)
    }

    /// `host:port`, for raw connections.
    pub fn address(&self) -> &str {
        self.url.trim_start_matches("http://")
    }

    /// SIGKILL, as a crash: no shutdown code runs.
    pub fn crash(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            crate::process::terminate(child, Duration::from_secs(5));
        }
    }
}

/// The browser tests (`functions/web/tests/*.test.mjs`, Node's test runner) against the
/// local server; screenshots and figures go to `<target>/web`.
pub fn browser_tests(sh: &Shell, tools_dir: &Path) -> anyhow::Result<()> {
    let modules = node_modules(sh, tools_dir)?;
    let chromium = chromium(sh)?;
    let server = LocalServer::start(ACCESS_TOKEN_SECONDS)?;
    let out = crate::target_dir().join("web");
    std::fs::create_dir_all(&out)?;
    let _modules = sh.push_env("TODO_WEB_NODE_MODULES", &modules);
    let _chromium = sh.push_env("TODO_WEB_CHROMIUM", &chromium);
    let _url = sh.push_env("TODO_WEB_BASE_URL", &server.url);
    let _out = sh.push_env("TODO_WEB_OUT", &out);
    let _access = sh.push_env("TODO_WEB_ACCESS_TOKEN_SECONDS", ACCESS_TOKEN_SECONDS);
    let _local = sh.push_env("TODO_WEB_LOCAL_BINARY", crate::target_dir().join("debug/todo-local"));
    let _data = sh.push_env("TODO_WEB_DATA_DIR", &server.data);
    let tests = web_dir().join("tests");
    let files: Vec<PathBuf> = std::fs::read_dir(&tests)?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.to_string_lossy().ends_with(".test.mjs"))
        .collect();
    cmd!(sh, "node --test --test-concurrency=1 {files...}").run().context("the browser tests failed")?;
    drop(server);
    Ok(())
}
