//! What the integration tests share: the harness's binary, run in one scrubbed environment.
//!
//! Each test file uses a part of it.
#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Stdio};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_sts-conformance");

/// The binary in an environment that does not follow the machine's (no CI progress mode, no
/// log filter), but with its cluster: `KUBECONFIG`, `~/.kube/config` and the image map the
/// testbed's real node needs (`ci/testbed.sh env`). [`hermetic`] takes those away too.
#[must_use]
pub fn command() -> Command {
    let mut command = Command::new(BIN);
    command.env_remove("CI").env_remove("RUST_LOG");
    command
}

/// [`command`] with no cluster to find and nothing of one: no `KUBECONFIG`, no home holding
/// `~/.kube/config`, no image map.
#[must_use]
pub fn hermetic() -> Command {
    let mut command = command();
    command.env_remove("KUBECONFIG").env("HOME", "/nonexistent").env_remove("STS_CONFORMANCE_IMAGE_MAP");
    command
}

/// Runs `command` with `args` and `stdin` to its end: its exit code (-1 when a signal ended
/// it), standard output and standard error.
pub fn run(mut command: Command, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{BIN} {args:?} does not start: {e}"));
    let mut input = child.stdin.take().expect("stdin is piped");
    // A command that does not read its input may have ended already: a broken pipe is fine.
    let _ = input.write_all(stdin.as_bytes());
    drop(input);
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{BIN} {args:?}: {e}"));
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

/// The binary with `args`, [`hermetic`], no input.
pub fn cli(args: &[&str]) -> (i32, String, String) {
    run(hermetic(), args, "")
}

/// The binary with `args` against the current cluster ([`command`]), no input.
pub fn cli_on_cluster(args: &[&str]) -> (i32, String, String) {
    run(command(), args, "")
}
