//! moto's server: the local AWS the DynamoDB/S3 tests run against.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use xshell::Shell;

/// Pinned emulator packages, installed into a private venv when the machine lacks them.
const MOTO_PACKAGES: &[&str] = &["moto[dynamodb,s3,sqs,server]==5.2.1", "flask==3.1.3", "flask-cors==6.0.2"];

/// A running moto server, stopped (by PID) when dropped.
pub struct Moto {
    child: Child,
    pub endpoint: String,
}

/// A python3 with the emulator's packages (moto, and the `cryptography` it depends on).
pub fn python(sh: &Shell, tools_dir: &Path) -> anyhow::Result<std::path::PathBuf> {
    crate::python::environment(sh, tools_dir, "moto", "import moto.server, flask, flask_cors", MOTO_PACKAGES)
}

impl Moto {
    pub fn start(sh: &Shell, tools_dir: &Path) -> anyhow::Result<Self> {
        Self::start_with(sh, tools_dir, false)
    }

    /// With `keep_alive`, persistent HTTP/1.1 connections as AWS keeps them (the
    /// benchmark's mode; calls are then not serialised, see the script).
    pub fn start_with(sh: &Shell, tools_dir: &Path, keep_alive: bool) -> anyhow::Result<Self> {
        Self::start_at(sh, tools_dir, "127.0.0.1", keep_alive)
    }

    /// On `host`, one of this machine's own addresses: the container bridge's, for
    /// functions that `sam local` runs in containers.
    pub fn start_on(sh: &Shell, tools_dir: &Path, host: &str) -> anyhow::Result<Self> {
        Self::start_at(sh, tools_dir, host, false)
    }

    fn start_at(sh: &Shell, tools_dir: &Path, host: &str, keep_alive: bool) -> anyhow::Result<Self> {
        let python = python(sh, tools_dir)?;
        let port = free_port(host)?;
        let child = Command::new(&python)
            // Serialised requests: see the script for why.
            .arg(crate::workspace_root().join("infra/scripts/moto_server.py"))
            .args([host, &port.to_string()])
            .args(keep_alive.then_some("--keep-alive"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start moto with {}", python.display()))?;
        let moto = Self { child, endpoint: format!("http://{host}:{port}") };
        Self::wait_until_ready(host, port)?;
        eprintln!("moto server ready at {} (pid {})", moto.endpoint, moto.child.id());
        Ok(moto)
    }

    fn wait_until_ready(host: &str, port: u16) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(mut stream) = TcpStream::connect((host, port)) {
                let _ = stream.write_all(b"GET /moto-api/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
                let mut head = [0u8; 12];
                if stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") && &head[9..12] == b"200" {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("moto's server did not become ready on port {port} within 30 s: the DynamoDB/S3 tests cannot run (they never skip)")
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port(host: &str) -> anyhow::Result<u16> {
    Ok(TcpListener::bind((host, 0))?.local_addr()?.port())
}
