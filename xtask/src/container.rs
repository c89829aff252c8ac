//! A container engine for `sam local invoke` / `start-api` without a container registry:
//! Debian's `docker.io`, and a stand-in for the Lambda base image
//! (`public.ecr.aws/lambda/provided:al2023-x86_64`) that cannot be pulled here.
//!
//! The stand-in is Debian 12 (`debootstrap --variant=minbase`) imported as an image under a
//! name of this project's own, which the tests pass to SAM as `--invoke-image` (so no real
//! image name is shadowed on a developer's machine); SAM layers its own bundled Runtime
//! Interface Emulator onto it, so the function runs under the same emulator as on the real
//! image. Known gap: Debian 12's glibc (2.36) is newer than Amazon Linux 2023's (2.34), so a
//! binary needing a glibc symbol newer than 2.34 would pass here and fail on Lambda.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use xshell::{Shell, cmd};

/// The stand-in for `provided.al2023` on x86_64, given to SAM as `--invoke-image`.
pub const STANDIN_IMAGE: &str = "todo-backend/lambda-standin:provided-al2023-x86_64";

/// A reachable container engine; stops the daemon (by PID) when dropped if it started it.
pub struct Docker {
    daemon: Option<Child>,
    /// The host's address on the default bridge: containers reach host services there.
    pub bridge_gateway: String,
}

impl Docker {
    /// The machine's engine if one answers, else Debian's `dockerd` (installed if missing),
    /// started here and stopped on drop. Then the stand-in base image, made once and kept in
    /// the engine's own storage.
    pub fn start(sh: &Shell, tools_dir: &Path) -> anyhow::Result<Self> {
        let daemon = if engine_answers(sh) {
            None
        } else {
            install_debian_packages(sh, &["docker.io", "debootstrap"], "dockerd")?;
            // Installing may have started the package's own daemon (where an init system runs).
            if engine_answers(sh) { None } else { Some(start_daemon(tools_dir)?) }
        };
        let mut docker = Self { daemon, bridge_gateway: String::new() };
        docker.bridge_gateway = bridge_gateway(sh)?;
        ensure_base_image(sh, tools_dir)?;
        Ok(docker)
    }
}

impl Drop for Docker {
    fn drop(&mut self) {
        if let Some(daemon) = &mut self.daemon {
            crate::process::terminate(daemon, Duration::from_secs(20));
        }
    }
}

/// The host's address on the default bridge: IPAM's gateway when the engine records one,
/// else the subnet's first address (where dockerd puts its bridge interface). Checked by
/// binding to it: it must be one of this machine's own addresses.
fn bridge_gateway(sh: &Shell) -> anyhow::Result<String> {
    let format = "{{range .IPAM.Config}}{{.Gateway}} {{.Subnet}}{{end}}";
    let ipam = cmd!(sh, "docker network inspect bridge --format {format}").quiet().read().context("no default bridge network")?;
    let mut words = ipam.split_whitespace();
    let gateway = match (words.next(), words.next()) {
        (Some(gateway), Some(_)) => gateway.to_owned(),
        (Some(subnet), None) => {
            let network: std::net::Ipv4Addr =
                subnet.split('/').next().unwrap_or_default().parse().with_context(|| format!("bridge subnet {subnet}"))?;
            std::net::Ipv4Addr::from(u32::from(network) + 1).to_string()
        }
        _ => bail!("the default bridge network has no IPv4 subnet"),
    };
    std::net::TcpListener::bind((gateway.as_str(), 0)).with_context(|| format!("the bridge address {gateway} is not this machine's"))?;
    Ok(gateway)
}

fn engine_answers(sh: &Shell) -> bool {
    let version = "{{.ServerVersion}}";
    cmd!(sh, "docker info --format {version}").quiet().ignore_stderr().ignore_stdout().run().is_ok()
}

/// Installs Debian `packages` (as root, as on these machines) unless `probe` is on PATH.
pub fn install_debian_packages(sh: &Shell, packages: &[&str], probe: &str) -> anyhow::Result<()> {
    if cmd!(sh, "which {probe}").quiet().ignore_stdout().ignore_stderr().run().is_ok() {
        return Ok(());
    }
    eprintln!("installing {} from Debian's packages", packages.join(" "));
    let _frontend = sh.push_env("DEBIAN_FRONTEND", "noninteractive");
    cmd!(sh, "apt-get update -qq").run().context("apt-get update failed")?;
    cmd!(sh, "apt-get install -y -qq {packages...}").run().with_context(|| format!("apt-get install {} failed", packages.join(" ")))?;
    Ok(())
}

/// Starts dockerd; the child is stopped (SIGTERM, then a wait) on every path that does not
/// hand it over.
fn start_daemon(tools_dir: &Path) -> anyhow::Result<Child> {
    std::fs::create_dir_all(tools_dir)?;
    let log = tools_dir.join("dockerd.log");
    let child = Command::new("dockerd")
        .args(["--storage-driver=overlay2", "--host=unix:///var/run/docker.sock"])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log)?)
        .stderr(std::fs::File::options().append(true).open(&log)?)
        .spawn()
        .context("cannot start dockerd")?;
    let mut guard = Docker { daemon: Some(child), bridge_gateway: String::new() };
    let sh = Shell::new()?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let daemon = guard.daemon.as_mut().expect("held until handed over");
        if let Some(status) = daemon.try_wait()? {
            bail!("dockerd exited with {status}; its log is {}", log.display());
        }
        if engine_answers(&sh) {
            eprintln!("dockerd ready (pid {})", daemon.id());
            return Ok(guard.daemon.take().expect("held until handed over"));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    bail!("dockerd did not answer within 60 s; its log is {}", log.display())
}

/// Debian 12 with curl and CA certificates, imported and tagged as `STANDIN_IMAGE`, unless the
/// engine already holds it (its storage outlives the daemon, so this runs once a machine).
fn ensure_base_image(sh: &Shell, tools_dir: &Path) -> anyhow::Result<()> {
    if cmd!(sh, "docker image inspect {STANDIN_IMAGE}").quiet().ignore_stdout().ignore_stderr().run().is_ok() {
        return Ok(());
    }
    install_debian_packages(sh, &["debootstrap"], "debootstrap")?;
    let rootfs = tools_dir.join("lambda-base-rootfs");
    let _ = std::fs::remove_dir_all(&rootfs);
    let mirror = debian_mirror();
    eprintln!("making the stand-in Lambda base image from {mirror} (about a minute)");
    let started = Instant::now();
    cmd!(sh, "debootstrap --variant=minbase --include=curl,ca-certificates bookworm {rootfs} {mirror}")
        .quiet()
        .ignore_stdout()
        .run()
        .context("debootstrap failed")?;
    let import = format!(
        "tar -C {} -c . | docker import -c 'WORKDIR /var/task' -c 'ENV LAMBDA_TASK_ROOT=/var/task LAMBDA_RUNTIME_DIR=/var/runtime' - {STANDIN_IMAGE}",
        rootfs.display()
    );
    cmd!(sh, "bash -o pipefail -c {import}").quiet().ignore_stdout().run().context("docker import of the stand-in image failed")?;
    std::fs::remove_dir_all(&rootfs)?;
    eprintln!("stand-in base image {STANDIN_IMAGE} made in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// The Debian mirror apt uses here (the only one reachable), else Debian's default: the
/// first `.../debian` archive of the main sources files (not security, not a third party's).
fn debian_mirror() -> String {
    let mut sources: Vec<PathBuf> = vec![PathBuf::from("/etc/apt/sources.list.d/debian.sources"), PathBuf::from("/etc/apt/sources.list")];
    if let Ok(entries) = std::fs::read_dir("/etc/apt/sources.list.d") {
        let mut others: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|extension| extension == "sources" || extension == "list"))
            .collect();
        others.sort();
        sources.extend(others);
    }
    sources
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .flat_map(|text| text.lines().map(str::to_owned).collect::<Vec<_>>())
        .filter(|line| !line.trim_start().starts_with('#'))
        .flat_map(|line| line.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .find(|word| {
            let url = word.trim_end_matches('/');
            word.starts_with("http") && url.ends_with("/debian") && !url.contains("docker") && !url.contains("security")
        })
        .unwrap_or_else(|| "http://deb.debian.org/debian".to_owned())
}
