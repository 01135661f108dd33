//! Output errors end the command cleanly: a reader that goes away silences the rest (the
//! command's own exit code stands); a full disk is one line on standard error and exit 2.

use std::process::{Command, Stdio};

mod common;

fn binary() -> Command {
    common::hermetic()
}

#[test]
fn a_closed_pipe_ends_quietly_with_the_commands_own_code() {
    for args in [&["run", "--sim"][..], &["list"][..], &["schema"][..]] {
        // The reader is gone before the command writes anything, as with `| head -c0`.
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let out = binary().args(args).stdout(writer).stderr(Stdio::piped()).output().expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: a closed pipe is not an error: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}

#[test]
fn a_full_disk_is_reported_once_and_exits_2() {
    let Ok(full) = std::fs::File::create("/dev/full") else { return };
    let out = binary().args(["run", "--sim"]).stdout(full).output().expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.matches("cannot write to standard output").count(), 1, "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
