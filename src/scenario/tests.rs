use std::path::Path;

use super::*;

const STS: &str = "apiVersion: v1\nkind: Service\nmetadata: {name: nginx}\nspec: {clusterIP: None, selector: {app: nginx}}\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: web}\nspec:\n  serviceName: nginx\n  replicas: 2\n  selector: {matchLabels: {app: nginx}}\n  template:\n    metadata: {labels: {app: nginx}}\n    spec: {containers: [{name: nginx, image: nginx}]}\n";

/// Writes `sts.yaml` and a scenario into a temporary directory and parses the scenario.
fn parse_with(scenario: &str) -> Result<Scenario, ScenarioErrors> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sts.yaml"), STS).unwrap();
    let file = dir.path().join("s.yaml");
    std::fs::write(&file, scenario).unwrap();
    load(&file)
}

const GOOD: &str = "apiVersion: sts-conformance/v1alpha1\nkind: Scenario\nmetadata: {name: t}\nspec:\n  description: d\n  claims: [002-ordered-create]\n  manifests: [sts.yaml]\n  steps:\n  - apply: {manifests: [sts.yaml]}\n    until: {statefulset: web, ready: 2}\n    expect:\n      ordered-creation: [002-ordered-create]\n  - scale: {statefulset: web, replicas: 3}\n    until: {statefulset: web, ready: 3}\n    timeout: 90s\n    expect:\n      ordered-creation: {claims: [002-ordered-create], statefulset: web}\n";

#[test]
fn a_valid_scenario_resolves_actions_targets_and_timeouts() {
    let s = parse_with(GOOD).unwrap();
    assert_eq!(s.steps.len(), 2);
    assert!(matches!(&s.steps[0].action, Action::Apply(objects) if objects.len() == 2));
    assert_eq!(s.steps[1].action, Action::Scale { set: "web".into(), replicas: 3 });
    assert_eq!(s.steps[1].timeout, Duration::from_secs(90));
    assert_eq!(s.steps[0].timeout, DEFAULT_TIMEOUT);
    assert_eq!(s.steps[1].expect[0].target, "web");
    assert_eq!(s.steps[1].line, 13);
}

#[test]
fn a_misspelled_field_is_rejected_at_its_line() {
    let err = parse_with(&GOOD.replace("  steps:", "  stepz:")).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("s.yaml:8:"), "{text}");
    assert!(text.contains("stepz"), "{text}");
    let err = parse_with(&GOOD.replace("    timeout: 90s", "    timout: 90s")).unwrap_err();
    assert!(err.to_string().contains(":15:"), "{err}");
}

#[test]
fn unknown_checks_references_and_claims_are_errors() {
    let err = parse_with(&GOOD.replace(
        "      ordered-creation: [002-ordered-create]\n  - scale",
        "      ordered-creaton: [002-ordered-create]\n  - scale",
    ))
    .unwrap_err();
    assert!(err.to_string().contains("ordered-creaton"), "{err}");
    let err = parse_with(&GOOD.replace("scale: {statefulset: web,", "scale: {statefulset: db,")).unwrap_err();
    assert!(err.to_string().contains("s.yaml:13:5: no manifest of the scenario declares StatefulSet db"), "{err}");
    let err = parse_with(
        &GOOD.replace("claims: [002-ordered-create]\n  manifests", "claims: [002-ordered-create, 999-nope]\n  manifests"),
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("unknown claim id \"999-nope\""), "{text}");
    assert!(text.contains("no step's expect proves it"), "{text}");
}

#[test]
fn two_actions_in_one_step_are_an_error() {
    let err = parse_with(&GOOD.replace(
        "  - scale: {statefulset: web, replicas: 3}\n",
        "  - scale: {statefulset: web, replicas: 3}\n    dns: {statefulset: web}\n",
    ))
    .unwrap_err();
    assert!(err.to_string().contains("one action"), "{err}");
}

#[test]
fn a_secret_the_scenario_does_not_supply_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let sts =
        STS.replace("image: nginx}", "image: nginx, env: [{name: P, valueFrom: {secretKeyRef: {name: db, key: password}}}]}");
    std::fs::write(dir.path().join("sts.yaml"), sts).unwrap();
    let file = dir.path().join("s.yaml");
    std::fs::write(&file, GOOD).unwrap();
    let err = load(&file).unwrap_err();
    assert!(err.to_string().contains("sts.yaml:6:1: StatefulSet web reads key password of Secret db"), "{err}");
}

#[test]
fn merge_patch_follows_rfc_7386() {
    let mut target = serde_json::json!({"a": {"b": 1, "c": 2}, "d": [1]});
    merge_patch(&mut target, &serde_json::json!({"a": {"b": null, "e": 3}, "d": [2]}));
    assert_eq!(target, serde_json::json!({"a": {"c": 2, "e": 3}, "d": [2]}));
    let _ = Path::new("");
}

#[test]
fn numbers_beyond_the_limits_are_refused_at_their_step() {
    let err =
        parse_with(&GOOD.replace("scale: {statefulset: web, replicas: 3}", "scale: {statefulset: web, replicas: 2147483647}"))
            .unwrap_err()
            .to_string();
    assert!(err.contains("s.yaml:13:5: scale: replicas 2147483647 is more than the 10000"), "{err}");
    let err = parse_with(&GOOD.replace("until: {statefulset: web, ready: 3}", "until: {statefulset: web, ready: 4294967295}"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("until.ready: replicas 4294967295"), "{err}");
    for settle in ["18446744073709551615h", "18446744073709551615ms", "1000000h"] {
        let err = parse_with(&GOOD.replace("    timeout: 90s", &format!("    timeout: 90s\n    settle: {settle}")))
            .unwrap_err()
            .to_string();
        assert!(err.contains("s.yaml:16:5: settle: ") && err.contains("longer than the 24h"), "{settle}: {err}");
    }
    let err = parse_with(&GOOD.replace(
        "  - scale: {statefulset: web, replicas: 3}\n",
        "  - patch: {statefulset: web, merge: {spec: {replicas: 20000}}}\n",
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("patch: replicas 20000"), "{err}");
}

#[test]
fn a_manifest_that_cannot_be_read_is_reported_where_the_scenario_names_it() {
    let err = parse_with(&GOOD.replace("  manifests: [sts.yaml]", "  manifests: [sts.yml]")).unwrap_err();
    let text = err.to_string();
    // Only the cause: what the missing file would have declared is not reported as missing.
    assert_eq!(err.0.len(), 1, "{text}");
    assert!(text.contains("s.yaml:7:15: manifest ") && text.contains("sts.yml: no such file"), "{text}");
}

#[test]
fn every_yaml_file_of_a_directory_is_read_or_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sts.yaml"), STS).unwrap();
    std::fs::write(dir.path().join("a.yaml"), GOOD).unwrap();
    // A scenario saved with CR line endings, a quoted kind, and a UTF-16 byte order mark: read.
    std::fs::write(dir.path().join("b.yaml"), GOOD.replace("name: t}", "name: b}").replace('\n', "\r")).unwrap();
    let c = GOOD.replace("name: t}", "name: c}").replace("kind: Scenario", "kind: \"Scenario\"  # quoted");
    let utf16: Vec<u8> = [0xff, 0xfe].into_iter().chain(c.encode_utf16().flat_map(u16::to_le_bytes)).collect();
    std::fs::write(dir.path().join("c.yaml"), utf16).unwrap();
    let found = discover(&[dir.path().to_path_buf()]).unwrap();
    assert_eq!(found.len(), 3, "{found:?}");
    for file in &found {
        load(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    }
    // One invalid byte: an error naming the file and the place, not a scenario left out.
    std::fs::write(dir.path().join("d.yaml"), format!("{GOOD}# caf\u{e9}\n").replace('\u{e9}', "\u{1}")).unwrap();
    let mut bytes = std::fs::read(dir.path().join("d.yaml")).unwrap();
    let at = bytes.iter().position(|b| *b == 1).unwrap();
    bytes[at] = 0xe9;
    std::fs::write(dir.path().join("d.yaml"), bytes).unwrap();
    let err = discover(&[dir.path().to_path_buf()]).unwrap_err().to_string();
    assert!(err.contains("d.yaml:18:6: invalid UTF-8 (byte 0xe9)"), "{err}");
    // Not a regular file: reported as such, not as missing.
    let err = discover(&[PathBuf::from("/dev/null")]).unwrap_err().to_string();
    assert!(err.contains("not a regular file"), "{err}");
}

#[test]
fn a_bad_duration_is_located_at_its_key() {
    let err = parse_with(&GOOD.replace("    timeout: 90s", "    timeout: 90")).unwrap_err().to_string();
    assert!(err.contains("s.yaml:15:5: timeout: \"90\" is not a duration"), "{err}");
    let err = parse_with(&GOOD.replace("  steps:", "  timeout: 5x\n  steps:")).unwrap_err().to_string();
    assert!(err.contains("s.yaml:8:3: timeout: \"5x\""), "{err}");
    let err = parse_with(&format!("{GOOD}  - {{dns: {{statefulset: web}}, settle: 9y}}\n")).unwrap_err().to_string();
    assert!(err.contains("s.yaml:18:31: settle: \"9y\""), "{err}");
}

const JOB: &str = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: backup-job}\nspec:\n  template:\n    spec:\n      containers: [{name: backup, image: busybox}]\n      restartPolicy: OnFailure\n";

/// Writes `job.yaml` and a scenario that patches the Job's restartPolicy to Always.
fn parse_refusal(refused: &str) -> Result<Scenario, ScenarioErrors> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("job.yaml"), JOB).unwrap();
    let file = dir.path().join("s.yaml");
    let scenario = format!(
        "apiVersion: sts-conformance/v1alpha1\nkind: Scenario\nmetadata: {{name: t}}\nspec:\n  description: d\n  claims: [004-job]\n  manifests: [job.yaml]\n  steps:\n  - apply:\n      manifests: [job.yaml]\n{refused}      patches:\n      - job: backup-job\n        merge: {{spec: {{template: {{spec: {{restartPolicy: Always}}}}}}}}\n    expect:\n      api-refusal: [004-job]\n"
    );
    std::fs::write(&file, scenario).unwrap();
    load(&file)
}

#[test]
fn a_patch_that_makes_an_object_invalid_is_an_error_unless_the_step_means_it_to_be_refused() {
    let err = parse_refusal("").unwrap_err().to_string();
    assert!(err.contains("s.yaml:9:"), "{err}");
    assert!(err.contains("the patch makes Job backup-job invalid: spec.template.spec.restartPolicy"), "{err}");
    let s = parse_refusal("      refused: true\n").unwrap();
    assert!(matches!(&s.steps[0].action, Action::ApplyRefused(objects) if objects.len() == 1));
    assert_eq!(s.steps[0].expect[0].target, "backup-job");
}

#[test]
fn one_check_may_judge_several_objects_of_a_step() {
    let many = GOOD.replace(
        "      ordered-creation: [002-ordered-create]\n  - scale",
        "      ordered-creation:\n      - {statefulset: web, claims: [002-ordered-create]}\n      - {statefulset: web, claims: [002-ordered-create]}\n  - scale",
    );
    let s = parse_with(&many).unwrap();
    assert_eq!(s.steps[0].expect.len(), 2);
    // A check that proves no claim would be judged and never reported.
    let unseen = GOOD.replace("      ordered-creation: [002-ordered-create]\n  - scale", "      ordered-creation: []\n  - scale");
    let err = parse_with(&unseen).unwrap_err().to_string();
    assert!(err.contains("step 1: `ordered-creation` proves no claim"), "{err}");
    let mixed = GOOD.replace(
        "      ordered-creation: [002-ordered-create]\n  - scale",
        "      ordered-creation: [002-ordered-create, {statefulset: web}]\n  - scale",
    );
    assert!(parse_with(&mixed).unwrap_err().to_string().contains("claim ids or maps, not both"));
}

#[test]
fn breaking_readiness_needs_a_probe_in_the_template_as_applied() {
    let step =
        "  - breakReadiness: {pod: web-0, file: /usr/share/nginx/html/index.html}\n    until: {statefulset: web, unready: 1}\n";
    // No readiness probe in the manifest: moving a file could change nothing.
    let err = parse_with(&format!("{GOOD}{step}")).unwrap_err();
    assert!(
        err.to_string().contains("s.yaml:18:5: breakReadiness: StatefulSet web's pod template has no readinessProbe"),
        "{err}"
    );
    // A probe added by the apply's patch counts.
    let probed = GOOD.replace(
        "  - apply: {manifests: [sts.yaml]}\n",
        "  - apply:\n      manifests: [sts.yaml]\n      patches:\n      - statefulset: web\n        merge: {spec: {template: {spec: {containers: [{name: nginx, image: nginx, readinessProbe: {httpGet: {path: /index.html, port: 80}}}]}}}}\n",
    );
    let s = parse_with(&format!("{probed}{step}")).unwrap_or_else(|e| panic!("{e}"));
    let Action::BreakReadiness(r) = &s.steps[2].action else { panic!("{:?}", s.steps[2].action) };
    assert_eq!((r.set.as_str(), r.pod.as_deref(), r.file.as_str()), ("web", Some("web-0"), "/usr/share/nginx/html/index.html"));
    // One target, an absolute path, a pod of a declared set.
    for (bad, why) in [
        ("{pod: web-0, statefulset: web, file: /f}", "needs exactly one of `pod` and `statefulset`"),
        ("{pod: web-0, file: f}", "\"f\" is not an absolute path"),
        ("{pod: db-0, file: /f}", "pod db-0 is not <statefulset>-<ordinal> of a declared StatefulSet"),
    ] {
        let err = parse_with(&format!("{probed}  - breakReadiness: {bad}\n")).unwrap_err();
        assert!(err.to_string().contains(why), "{bad}: {err}");
    }
    // `unready` is a StatefulSet's condition only.
    let err = parse_with(&GOOD.replace("until: {statefulset: web, ready: 3}", "until: {deployment: d, ready: 1, unready: 1}"))
        .unwrap_err();
    assert!(err.to_string().contains("unready, pendingClaims and claimed to StatefulSets only"), "{err}");
}

#[test]
fn a_pod_patch_may_change_only_labels_and_owner_references() {
    let s = parse_with(&format!("{GOOD}  - patchPod: {{pod: web-0, merge: {{metadata: {{ownerReferences: null}}}}}}\n"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(&s.steps.last().expect("a step").action, Action::PatchPod { pod, .. } if pod == "web-0"));
    parse_with(&format!("{GOOD}  - patchPod: {{pod: web-0, merge: {{metadata: {{labels: {{app: null, tier: web}}}}}}}}\n"))
        .unwrap_or_else(|e| panic!("{e}"));
    for bad in [
        "{metadata: {annotations: {a: b}}}",
        "{spec: {activeDeadlineSeconds: 1}}",
        "{metadata: {labels: {app: 1}}}",
        "{metadata: {}}",
        "{metadata: {labels: {}}, spec: {}}",
    ] {
        let err = parse_with(&format!("{GOOD}  - patchPod: {{pod: web-0, merge: {bad}}}\n")).unwrap_err();
        assert!(err.to_string().contains("changes more than a pod's metadata.labels"), "{bad}: {err}");
    }
    let err = parse_with(&format!("{GOOD}  - patchPod: {{pod: db-0, merge: {{metadata: {{labels: null}}}}}}\n")).unwrap_err();
    assert!(err.to_string().contains("db-0"), "{err}");
}

#[test]
fn a_delete_collection_needs_labels() {
    let err = parse_with(&format!("{GOOD}  - deleteCollection: {{labels: {{}}}}\n")).unwrap_err();
    assert!(err.to_string().contains("none would select every StatefulSet"), "{err}");
    let err = parse_with(&format!("{GOOD}  - apiSurface: {{statefulset: web, labels: {{}}}}\n")).unwrap_err();
    assert!(err.to_string().contains("apiSurface.labels"), "{err}");
    parse_with(&format!("{GOOD}  - apiSurface: {{statefulset: web, labels: {{app: nginx}}}}\n"))
        .unwrap_or_else(|e| panic!("{e}"));
}
