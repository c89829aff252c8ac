//! Stopping the processes the scripts start (emulators, dockerd, SAM, function binaries).

use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// SIGTERM, then SIGKILL if `child` is still running after `grace`; waits for it either way
/// (no zombie). SIGTERM lets dockerd stop its containers, SAM its warm containers and a
/// profiler wrapping a function write its report.
pub fn terminate(child: &mut Child, grace: Duration) {
    let signalled = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().is_ok_and(|status| status.success());
    let deadline = Instant::now() + grace;
    while signalled && Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
}
