//! Hostile input through the command line: each class exits with the code the README promises
//! and a message that names the file and line, and nothing runs before the input is known good.

mod common;

fn run(args: &[&str]) -> (Option<i32>, String) {
    let out = common::hermetic().args(args).output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    (out.status.code(), stderr)
}

/// A copy of seed-002's scenario directory with `edit` applied to one of its files.
fn seed_002_with(file: &str, edit: impl Fn(Vec<u8>) -> Vec<u8>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["lifecycle.scenario.yaml", "nginx-statefulset.yaml"] {
        let bytes = std::fs::read(format!("scenarios/seed-002/{name}")).expect("seed-002");
        let bytes = if name == file { edit(bytes) } else { bytes };
        std::fs::write(dir.path().join(name), bytes).expect("write");
    }
    dir
}

fn replace(from: &str, to: &str) -> impl Fn(Vec<u8>) -> Vec<u8> {
    let (from, to) = (from.to_owned(), to.to_owned());
    move |bytes| {
        let text = String::from_utf8(bytes).expect("utf-8");
        assert!(text.contains(&from), "{from:?}");
        text.replacen(&from, &to, 1).into_bytes()
    }
}

#[test]
fn numbers_beyond_the_limits_are_bad_input_at_their_line() {
    let dir = seed_002_with("nginx-statefulset.yaml", replace("replicas: 3", "replicas: 2147483647"));
    let (code, err) = run(&["run", "--sim", "--quiet", "--scenarios", dir.path().to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("nginx-statefulset.yaml:24:1:") && err.contains("more than the 10000"), "{err}");
    for settle in ["18446744073709551615h", "18446744073709551615ms", "1000000h"] {
        let dir = seed_002_with(
            "lifecycle.scenario.yaml",
            replace("  - dns: {statefulset: web}\n", &format!("  - dns: {{statefulset: web}}\n    settle: {settle}\n")),
        );
        let (code, err) = run(&["validate", dir.path().to_str().unwrap()]);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains("lifecycle.scenario.yaml:19:5: settle:") && err.contains("longer than the 24h"), "{settle}: {err}");
    }
}

#[test]
fn no_file_is_skipped() {
    // One invalid byte: named with its place, not a silent "0 scenarios".
    let dir = seed_002_with("lifecycle.scenario.yaml", |mut b| {
        b.extend_from_slice(b"# \xff\n");
        b
    });
    let (code, err) = run(&["validate", dir.path().to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("lifecycle.scenario.yaml:") && err.contains("invalid UTF-8"), "{err}");
    // CR line endings and a UTF-16 byte order mark are read, as kubectl reads them.
    let dir = seed_002_with("lifecycle.scenario.yaml", |b| b.into_iter().map(|c| if c == b'\n' { b'\r' } else { c }).collect());
    let (code, err) = run(&["validate", dir.path().to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    let dir = seed_002_with("lifecycle.scenario.yaml", |b| {
        let text = String::from_utf8(b).unwrap();
        [0xff, 0xfe].into_iter().chain(text.encode_utf16().flat_map(u16::to_le_bytes)).collect()
    });
    let (code, err) = run(&["validate", dir.path().to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    // A mistyped manifest path is reported where the scenario names it.
    let dir = seed_002_with(
        "lifecycle.scenario.yaml",
        replace("manifests: [nginx-statefulset.yaml]", "manifests: [nginx-statefulset.yml]"),
    );
    let (code, err) = run(&["validate", dir.path().to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("lifecycle.scenario.yaml:9:15: manifest ") && err.contains("no such file"), "{err}");
    assert_eq!(err.lines().count(), 1, "only the cause: {err}");
    let (code, err) = run(&["validate", "/dev/null"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("not a regular file"), "{err}");
}

#[test]
fn unusable_flags_are_bad_input_before_anything_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let under_a_file = file.join("out");
    let under = under_a_file.to_str().unwrap();
    for args in [
        &["run", "--sim", "--quiet", "--output-dir", under][..],
        &["run", "--sim", "--quiet", "--snapshots", under][..],
        &["run", "--sim", "--quiet", "--junit", &format!("{under}/x.xml")][..],
        &["run", "--sim", "--quiet", "--cluster-domain", ""][..],
        &["run", "--sim", "--quiet", "--storage-class", ""][..],
        &["run", "--sim", "--quiet", "--probe-image", ""][..],
    ] {
        let (code, err) = run(args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
    }
    // An empty KUBECONFIG does not stand in the way of the simulated cluster.
    let out = common::hermetic()
        .args(["run", "--sim", "--quiet", "--scenario", "seed-001-practice"])
        .env("KUBECONFIG", "")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn analyze_says_when_the_transcript_has_no_such_set() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("t.txt");
    std::fs::write(&file, "NAME    READY   STATUS    RESTARTS   AGE\nweb-0   1/1     Running   0          1s\n").unwrap();
    let (code, err) = run(&["analyze", file.to_str().unwrap(), "--statefulset", "nosuch"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("shows no pod, claim or StatefulSet row of nosuch (it shows web)"), "{err}");
    std::fs::write(
        &file,
        "NAME              READY   STATUS    RESTARTS   AGE\nweb-99999999999   0/1     Pending   0          1s\n",
    )
    .unwrap();
    let (code, err) = run(&["analyze", file.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("no StatefulSet found"), "{err}");
}
