//! The scenario file format (`apiVersion: sts-conformance/v1alpha1`, `kind: Scenario`).
//!
//! A step is a map holding at most one action key (`apply`, `scale`, …; none means "just
//! wait"), an optional `until` condition, `timeout`, `settle`, and `expect`: the checks to
//! judge over the history the step produced, each with the claim ids it proves. Unknown fields
//! are errors everywhere.

use std::{collections::BTreeMap, fmt, marker::PhantomData};

use schemars::JsonSchema;
use serde::{
    Deserialize, Deserializer, Serialize,
    de::{self, MapAccess, SeqAccess, Visitor, value::MapAccessDeserializer, value::SeqAccessDeserializer},
};
use serde_json::Value;

use crate::checks::CheckName;

/// The `apiVersion` of this format.
pub const API_VERSION: &str = "sts-conformance/v1alpha1";

/// A scenario file.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScenarioDoc {
    /// Always `sts-conformance/v1alpha1`.
    pub api_version: String,
    /// Always `Scenario`.
    pub kind: String,
    /// The scenario's name.
    pub metadata: Metadata,
    /// What it does.
    pub spec: ScenarioSpec,
}

/// `metadata`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// A DNS label, unique among scenarios; part of the run's namespace name.
    pub name: String,
}

/// `spec`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScenarioSpec {
    /// One line on what the scenario shows.
    pub description: String,
    /// The claim ids the scenario proves; each must be named by some step's `expect`.
    pub claims: Vec<String>,
    /// Every manifest file the steps apply, relative to the scenario file (each with its place
    /// in the file).
    #[schemars(with = "Vec<String>")]
    pub manifests: Vec<serde_saphyr::Spanned<String>>,
    /// Default time limit of each step's `until` (e.g. `5m`); 5 minutes when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// The steps, run in order (each with its place in the file).
    #[schemars(with = "Vec<Step>")]
    pub steps: Vec<serde_saphyr::Spanned<Step>>,
}

/// One step: an action, what to wait for, and what to judge.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Step {
    /// Apply manifests (server-side apply into the run's namespace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply: Option<Apply>,
    /// Set a StatefulSet's replicas (the scale subresource, as `kubectl scale`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<Scale>,
    /// Change one container's image (as `kubectl set image`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_image: Option<SetImage>,
    /// Set `updateStrategy.rollingUpdate.partition`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_partition: Option<SetPartition>,
    /// Merge-patch a StatefulSet (inline or a fragment from a file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<Patch>,
    /// Delete one pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_pod: Option<DeletePod>,
    /// Merge-patch a pod's `metadata.labels` or `metadata.ownerReferences` (nothing else): to
    /// orphan it (`ownerReferences: null`) or make its labels stop matching its set's selector,
    /// as upstream's adoption spec does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch_pod: Option<PatchPod>,
    /// Delete a StatefulSet (its pods go with it; claims stay).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_stateful_set: Option<DeleteStatefulSet>,
    /// Write a random token into a file in a pod (exec).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_token: Option<FileRef>,
    /// Read back the file last written with `writeToken` (exec).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_token: Option<FileRef>,
    /// Run `hostname` in every pod of a StatefulSet (exec).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostnames: Option<SetRef>,
    /// Look up the governing Service and every pod's record, from a pod in the namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<SetRef>,
    /// Make pods fail their readiness probe, as upstream's e2e suite does: move the file the
    /// probe depends on away (exec), in one pod or in every pod of a StatefulSet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub break_readiness: Option<ReadinessRef>,
    /// Undo `breakReadiness`: move the file back where it was moved away.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_readiness: Option<ReadinessRef>,
    /// Make a pod fail, as an eviction leaves one: set its `activeDeadlineSeconds` to 1, so
    /// that its kubelet ends it with phase Failed (`DeadlineExceeded`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_pod: Option<FailPod>,
    /// HTTP GET each pod of a StatefulSet from a client pod in the namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<Http>,
    /// Exercise a StatefulSet's API surface, as upstream's Conformance specs do: read the scale
    /// subresource, write it (replicas + 1) and patch it back; read the status subresource,
    /// write and patch a condition into it; list the StatefulSets carrying `labels`. Every
    /// answer is recorded for the `api-surface` check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_surface: Option<ApiSurface>,
    /// Delete every StatefulSet of the run's namespace that carries these labels, in one
    /// request (delete-collection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_collection: Option<Labels>,
    /// Conditions that must all hold before the step ends.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "one_or_many")]
    #[schemars(with = "OneOrMany<Until>")]
    pub until: Vec<Until>,
    /// Time limit for `until` (e.g. `90s`, `5m`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// Keep observing this long after `until` holds (to see that nothing else happens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settle: Option<String>,
    /// Check name → the claims it proves (a list), or `{claims, statefulset, deployment, body}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub expect: BTreeMap<CheckName, Expect>,
}

/// `apply`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Apply {
    /// Manifest files, relative to the scenario file (each must be listed in `spec.manifests`).
    pub manifests: Vec<String>,
    /// Merge patches applied to the manifests' objects before they are sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patches: Vec<Patch>,
    /// The objects are invalid on purpose: the API server must refuse each of them (its
    /// answer is recorded as evidence, for the `api-refusal` check), and `validate` does not
    /// hold them to its own rules.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refused: bool,
}

/// A JSON merge patch for a StatefulSet: inline (`merge`) or a fragment (`file` + `key`).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Patch {
    /// The StatefulSet to patch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statefulset: Option<String>,
    /// Or the DaemonSet to patch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daemonset: Option<String>,
    /// Or the Job to patch (in an `apply`: a Job's template cannot change once created).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// Or the CronJob to patch (in an `apply`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cronjob: Option<String>,
    /// A YAML file of named fragments, relative to the scenario file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The fragment's key in `file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// An inline merge patch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merge: Option<Value>,
}

/// `scale`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Scale {
    /// The StatefulSet.
    pub statefulset: String,
    /// The new replica count.
    pub replicas: u32,
}

/// `setImage`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SetImage {
    /// The StatefulSet.
    pub statefulset: String,
    /// The container whose image changes.
    pub container: String,
    /// The new image (the image map applies to it too).
    pub image: String,
}

/// `setPartition`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SetPartition {
    /// The StatefulSet.
    pub statefulset: String,
    /// The new partition.
    pub partition: u32,
}

/// `deletePod`: a pod by name, or one pod of a Deployment.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DeletePod {
    /// The pod's name (`web-0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    /// Or: delete the first pod (by name) of this Deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
}

/// `failPod`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FailPod {
    /// The pod's name (`web-1`).
    pub pod: String,
}

/// `apiSurface`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApiSurface {
    /// The StatefulSet whose subresources are read and written.
    pub statefulset: String,
    /// Labels to list StatefulSets by (equalities, as `matchLabels`).
    pub labels: BTreeMap<String, String>,
}

/// A label selector given as equalities (`matchLabels`).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Labels {
    /// The labels every selected object carries.
    pub labels: BTreeMap<String, String>,
}

/// `patchPod`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PatchPod {
    /// The pod (`web-0`).
    pub pod: String,
    /// A JSON merge patch touching only `metadata.labels` and `metadata.ownerReferences`.
    pub merge: Value,
}

/// `deleteStatefulSet`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DeleteStatefulSet {
    /// The StatefulSet.
    pub name: String,
}

/// A file inside a pod.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FileRef {
    /// The pod (`web-0`).
    pub pod: String,
    /// Absolute path of the file; for persistence, inside a claim's mount.
    pub path: String,
    /// Text written before the random token (`Hello from web-0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

/// The pods whose readiness `breakReadiness` and `restoreReadiness` change, and how.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReadinessRef {
    /// One pod of a StatefulSet (`web-0`)…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    /// …or every pod of this StatefulSet that exists and runs at that moment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statefulset: Option<String>,
    /// Absolute path, inside the pod's first container, of the file the pod template's
    /// readiness probe depends on (the page an `httpGet` probe fetches, say
    /// `/usr/share/nginx/html/index.html`): moved to `<file>.unready` and back.
    pub file: String,
}

/// A StatefulSet, by name.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SetRef {
    /// The StatefulSet.
    pub statefulset: String,
}

/// How `http` addresses each pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    /// The pod's IP address.
    #[default]
    Ip,
    /// The pod's DNS name `<pod>.<service>`.
    Dns,
}

/// `http`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Http {
    /// The StatefulSet whose pods are asked.
    pub statefulset: String,
    /// By IP (default) or by DNS name.
    #[serde(default)]
    pub via: Via,
    /// Port (default 80).
    #[serde(default = "default_port")]
    pub port: u16,
    /// Path (default `/`).
    #[serde(default = "default_path")]
    pub path: String,
    /// Send from this pod of the scenario (default: the harness's own probe pod).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

fn default_port() -> u16 {
    80
}

fn default_path() -> String {
    "/".into()
}

/// A condition over the observed state. All given fields must hold at once.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Until {
    /// The StatefulSet the counts are about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statefulset: Option<String>,
    /// Or the Deployment the counts are about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
    /// Or a DaemonSet, with `rolledOut: true`: its status covers the latest spec, and each of
    /// its pods is updated and available, as `kubectl rollout status` decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daemonset: Option<String>,
    /// Or a Job, with `complete: true`: its `Complete` condition is True and its pods have all
    /// finished (or `failed: true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// Job only: see `job`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complete: Option<bool>,
    /// Job only: with `failed: true` instead of `complete`, its `Failed` condition is True and
    /// its pods have all finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<bool>,
    /// Or a CronJob, with `jobs: N`: it has created at least N Jobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cronjob: Option<String>,
    /// CronJob only: see `cronjob`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jobs: Option<u32>,
    /// Or a plain Pod of the scenario, which must be Running and Ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    /// Exactly this many pods exist and all are Running and Ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<u32>,
    /// Exactly this many pods exist (none terminating).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pods: Option<u32>,
    /// StatefulSet only: exactly this many of its pods are Running and not Ready (none of
    /// them terminating) — pods held unready by `breakReadiness`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unready: Option<u32>,
    /// StatefulSet: every pod from the partition up runs the update revision and is Ready.
    /// DaemonSet: see `daemonset`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolled_out: Option<bool>,
    /// StatefulSet only: this many of its claims are Pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_claims: Option<u32>,
    /// StatefulSet only, `claimed: true`: every pod named for it has a controller exactly when
    /// its labels match the set's selector, and the set controls none that does not match
    /// (adoption and release done).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed: Option<bool>,
}

/// What a check proves, and about what.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExpectArgs {
    /// Claim ids this check proves.
    #[serde(default)]
    pub claims: Vec<String>,
    /// The StatefulSet judged (default: the step's, or the scenario's only one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statefulset: Option<String>,
    /// The Deployment judged (deployment checks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
    /// The DaemonSet judged (daemonset checks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daemonset: Option<String>,
    /// The Job judged (job checks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// The CronJob judged (cronjob checks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cronjob: Option<String>,
    /// The object of the step's refused `apply` judged (`api-refusal`; default: its only one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// pod-http: text each answer must contain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// `expect` value: `[claim, …]`, a full [`ExpectArgs`] map, or a list of such maps (the same
/// check judging several objects of the step: `[{cronjob: a, claims: […]}, {cronjob: b, …}]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct Expect(#[schemars(with = "ClaimsOrArgs")] pub Vec<ExpectArgs>);

/// Schema of [`Expect`]: a list of claim ids, the full form, or a list of full forms.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum ClaimsOrArgs {
    Claims(Vec<String>),
    Args(ExpectArgs),
    Many(Vec<ExpectArgs>),
}

/// Schema of a value given as one item or a list.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

/// One item of an `expect` list: a claim id or a full map.
enum ClaimOrArgs {
    Claim(String),
    Args(ExpectArgs),
}

impl<'de> Deserialize<'de> for ClaimOrArgs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ClaimOrArgs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a claim id or a map with `claims`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ClaimOrArgs, E> {
                Ok(ClaimOrArgs::Claim(v.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ClaimOrArgs, A::Error> {
                ExpectArgs::deserialize(MapAccessDeserializer::new(map)).map(ClaimOrArgs::Args)
            }
        }
        deserializer.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Expect {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Expect;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of claim ids, a map with `claims`, or a list of such maps")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Expect, A::Error> {
                let items = Vec::<ClaimOrArgs>::deserialize(SeqAccessDeserializer::new(seq))?;
                let mut claims = Vec::new();
                let mut many = Vec::new();
                for item in items {
                    match item {
                        ClaimOrArgs::Claim(id) => claims.push(id),
                        ClaimOrArgs::Args(args) => many.push(args),
                    }
                }
                match (claims.is_empty(), many.is_empty()) {
                    (_, true) => Ok(Expect(vec![ExpectArgs { claims, ..ExpectArgs::default() }])),
                    (true, false) => Ok(Expect(many)),
                    (false, false) => Err(de::Error::custom("an expect list holds claim ids or maps, not both")),
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Expect, A::Error> {
                ExpectArgs::deserialize(MapAccessDeserializer::new(map)).map(|args| Expect(vec![args]))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Expect, E> {
                Ok(Expect(vec![ExpectArgs::default()]))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// Deserializes one `T` or a list of them into a list, keeping the parser's locations.
fn one_or_many<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Vec<T>, D::Error> {
    struct V<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a condition or a list of conditions")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Vec<T>, A::Error> {
            Vec::<T>::deserialize(SeqAccessDeserializer::new(seq))
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Vec<T>, A::Error> {
            T::deserialize(MapAccessDeserializer::new(map)).map(|t| vec![t])
        }
    }
    deserializer.deserialize_any(V(PhantomData))
}

/// Why a text is not a step's duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Not a duration at all.
    #[error("{0:?} is not a duration like 90s, 5m or 1m30s")]
    Malformed(String),
    /// Digits without a unit.
    #[error("{0:?} is not a duration like 90s, 5m or 1m30s (a unit is required)")]
    NoUnit(String),
    /// Longer than [`MAX_WAIT`](crate::limits::MAX_WAIT).
    #[error("{0:?} is longer than the {hours}h a step may wait", hours = crate::limits::MAX_WAIT.as_secs() / 3600)]
    TooLong(String),
}

/// Parses a duration like `90s`, `5m`, `1m30s`, `2h`, `500ms`, of at most
/// [`MAX_WAIT`](crate::limits::MAX_WAIT).
///
/// # Errors
/// The text is not such a duration, or is longer than the limit.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, DurationError> {
    let limit = crate::limits::MAX_WAIT;
    let too_long = || DurationError::TooLong(text.to_owned());
    let mut total = 0u64;
    let mut number = String::new();
    let mut chars = text.trim().chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit_ms = match (c, chars.peek()) {
            ('m', Some('s')) => {
                chars.next();
                1
            }
            ('s', _) => 1_000,
            ('m', _) => 60_000,
            ('h', _) => 3_600_000,
            _ => return Err(DurationError::Malformed(text.to_owned())),
        };
        if number.is_empty() {
            return Err(DurationError::Malformed(text.to_owned()));
        }
        // Digits that overflow are a duration far beyond the limit.
        let n: u64 = number.parse().map_err(|_| too_long())?;
        total = n.checked_mul(unit_ms).and_then(|ms| total.checked_add(ms)).ok_or_else(too_long)?;
        if u128::from(total) > limit.as_millis() {
            return Err(too_long());
        }
        number.clear();
        any = true;
    }
    if !number.is_empty() || !any {
        return Err(DurationError::NoUnit(text.to_owned()));
    }
    Ok(std::time::Duration::from_millis(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s").unwrap().as_secs(), 90);
        assert_eq!(parse_duration("1m30s").unwrap().as_secs(), 90);
        assert_eq!(parse_duration("500ms").unwrap().as_millis(), 500);
        assert_eq!(parse_duration("2h").unwrap().as_secs(), 7200);
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("s").is_err());
        assert_eq!(parse_duration("24h").unwrap().as_secs(), 24 * 3600);
        for long in ["25h", "1000000h", "18446744073709551615h", "18446744073709551615ms", "99999999999999999999999s", "23h3601s"]
        {
            let error = parse_duration(long).unwrap_err();
            assert!(error.to_string().contains("longer than the 24h"), "{long}: {error}");
        }
    }
}
