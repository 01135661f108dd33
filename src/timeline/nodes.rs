//! Nodes and DaemonSets as observed, and where a DaemonSet's pods belong.
//!
//! [`Placement::on`] is the DaemonSet controller's decision for one node, after
//! `NodeShouldRunDaemonPod` in Kubernetes' `pkg/controller/daemon/daemon_controller.go`: the
//! pod template's `nodeName`, `nodeSelector` and required node affinity must match the node
//! (`component-helpers/scheduling/corev1/nodeaffinity`), and every `NoSchedule`/`NoExecute`
//! taint of the node must be tolerated — with the tolerations the controller adds to every
//! daemon pod (`AddOrUpdateDaemonPodTolerations`: not-ready and unreachable `NoExecute`;
//! disk-, memory- and pid-pressure and unschedulable `NoSchedule`; network-unavailable
//! `NoSchedule` with `hostNetwork`). A pod already on a node whose only untolerated taints are
//! `NoSchedule` keeps running there.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A node's scheduling facts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeObs {
    /// Node name.
    pub name: String,
    /// Its labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// `spec.taints`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taints: Vec<TaintObs>,
    /// `spec.unschedulable` (cordoned).
    #[serde(default)]
    pub unschedulable: bool,
}

/// A node taint.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TaintObs {
    /// Key.
    pub key: String,
    /// Value (empty when none).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub value: String,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
    pub effect: String,
}

/// A pod toleration.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TolerationObs {
    /// Key (empty with `Exists`: every key).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub key: String,
    /// `Equal` (the default) or `Exists`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub operator: String,
    /// Value, for `Equal`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub value: String,
    /// Effect (empty: every effect).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub effect: String,
}

/// A node selector requirement (`matchExpressions` over labels, `matchFields` over fields).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RequirementObs {
    /// Label key, or `metadata.name` for a field.
    pub key: String,
    /// `In`, `NotIn`, `Exists`, `DoesNotExist`, `Gt` or `Lt`.
    pub operator: String,
    /// Values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// A node selector term: every requirement must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TermObs {
    /// Over the node's labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<RequirementObs>,
    /// Over the node's fields (`metadata.name`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_fields: Vec<RequirementObs>,
}

/// Where a pod template may run: what of its spec places it on nodes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Placement {
    /// `nodeName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_name: Option<String>,
    /// `nodeSelector`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    /// `affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`
    /// (any one must match), when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_terms: Option<Vec<TermObs>>,
    /// `tolerations`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<TolerationObs>,
    /// `hostNetwork`.
    #[serde(default)]
    pub host_network: bool,
}

/// The DaemonSet controller's decision for one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// A daemon pod should run on the node (one is created if there is none).
    pub should_run: bool,
    /// A daemon pod already there may stay.
    pub should_continue: bool,
    /// Why not, when it should not run.
    pub reason: Option<String>,
}

/// Whether `toleration` tolerates `taint` (`Toleration.ToleratesTaint`).
#[must_use]
pub fn tolerates(toleration: &TolerationObs, taint: &TaintObs) -> bool {
    if !toleration.effect.is_empty() && toleration.effect != taint.effect {
        return false;
    }
    if !toleration.key.is_empty() && toleration.key != taint.key {
        return false;
    }
    match toleration.operator.as_str() {
        "Exists" => true,
        "" | "Equal" => toleration.value == taint.value,
        _ => false,
    }
}

fn requirement_holds(requirement: &RequirementObs, value: Option<&str>) -> bool {
    let values = &requirement.values;
    let number = |v: &str| v.parse::<i64>().ok();
    match requirement.operator.as_str() {
        "In" => value.is_some_and(|v| values.iter().any(|x| x == v)),
        "NotIn" => value.is_none_or(|v| values.iter().all(|x| x != v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" | "Lt" => {
            let (Some(have), [want]) = (value.and_then(number), values.as_slice()) else { return false };
            let Some(want) = number(want) else { return false };
            if requirement.operator == "Gt" { have > want } else { have < want }
        }
        _ => false,
    }
}

impl TermObs {
    /// Whether `node` matches every requirement. A term with none matches nothing.
    #[must_use]
    pub fn matches(&self, node: &NodeObs) -> bool {
        if self.match_expressions.is_empty() && self.match_fields.is_empty() {
            return false;
        }
        self.match_expressions.iter().all(|r| requirement_holds(r, node.labels.get(&r.key).map(String::as_str)))
            && self.match_fields.iter().all(|r| r.key == "metadata.name" && requirement_holds(r, Some(&node.name)))
    }
}

/// The tolerations the DaemonSet controller adds to every daemon pod.
fn daemon_tolerations(host_network: bool) -> Vec<TolerationObs> {
    let exists = |key: &str, effect: &str| TolerationObs {
        key: key.into(),
        operator: "Exists".into(),
        value: String::new(),
        effect: effect.into(),
    };
    let mut added = vec![
        exists("node.kubernetes.io/not-ready", "NoExecute"),
        exists("node.kubernetes.io/unreachable", "NoExecute"),
        exists("node.kubernetes.io/disk-pressure", "NoSchedule"),
        exists("node.kubernetes.io/memory-pressure", "NoSchedule"),
        exists("node.kubernetes.io/pid-pressure", "NoSchedule"),
        exists("node.kubernetes.io/unschedulable", "NoSchedule"),
    ];
    if host_network {
        added.push(exists("node.kubernetes.io/network-unavailable", "NoSchedule"));
    }
    added
}

impl Placement {
    /// Whether the template's node name, node selector and required node affinity admit `node`.
    #[must_use]
    pub fn selects(&self, node: &NodeObs) -> bool {
        self.node_name.as_ref().is_none_or(|n| *n == node.name)
            && self.node_selector.iter().all(|(k, v)| node.labels.get(k) == Some(v))
            && self.required_terms.as_ref().is_none_or(|terms| terms.iter().any(|t| t.matches(node)))
    }

    /// The first taint of `node` with one of `effects` that no toleration of a daemon pod of
    /// this template tolerates.
    #[must_use]
    pub fn untolerated<'n>(&self, node: &'n NodeObs, effects: &[&str]) -> Option<&'n TaintObs> {
        let added = daemon_tolerations(self.host_network);
        node.taints
            .iter()
            .filter(|t| effects.contains(&t.effect.as_str()))
            .find(|t| !self.tolerations.iter().chain(&added).any(|tol| tolerates(tol, t)))
    }

    /// The DaemonSet controller's decision for `node` (`NodeShouldRunDaemonPod`).
    #[must_use]
    pub fn on(&self, node: &NodeObs) -> Decision {
        if !self.selects(node) {
            let reason = format!("{} does not match the pod template's node name, nodeSelector or node affinity", node.name);
            return Decision { should_run: false, should_continue: false, reason: Some(reason) };
        }
        match self.untolerated(node, &["NoSchedule", "NoExecute"]) {
            None => Decision { should_run: true, should_continue: true, reason: None },
            Some(taint) => Decision {
                should_run: false,
                should_continue: self.untolerated(node, &["NoExecute"]).is_none(),
                reason: Some(format!("{} has the taint {} that the pod template does not tolerate", node.name, taint)),
            },
        }
    }
}

impl Placement {
    /// The placement a pod spec asks for.
    #[must_use]
    pub fn of(spec: &k8s_openapi::api::core::v1::PodSpec) -> Self {
        let requirement = |r: &k8s_openapi::api::core::v1::NodeSelectorRequirement| RequirementObs {
            key: r.key.clone(),
            operator: r.operator.clone(),
            values: r.values.clone().unwrap_or_default(),
        };
        let required = spec
            .affinity
            .as_ref()
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|n| n.required_during_scheduling_ignored_during_execution.as_ref());
        Placement {
            node_name: spec.node_name.clone().filter(|n| !n.is_empty()),
            node_selector: spec.node_selector.clone().unwrap_or_default(),
            required_terms: required.map(|r| {
                r.node_selector_terms
                    .iter()
                    .map(|t| TermObs {
                        match_expressions: t.match_expressions.iter().flatten().map(requirement).collect(),
                        match_fields: t.match_fields.iter().flatten().map(requirement).collect(),
                    })
                    .collect()
            }),
            tolerations: spec
                .tolerations
                .iter()
                .flatten()
                .map(|t| TolerationObs {
                    key: t.key.clone().unwrap_or_default(),
                    operator: t.operator.clone().unwrap_or_default(),
                    value: t.value.clone().unwrap_or_default(),
                    effect: t.effect.clone().unwrap_or_default(),
                })
                .collect(),
            host_network: spec.host_network.unwrap_or(false),
        }
    }
}

/// The node a pod is bound to, or the one its required node affinity pins it to by name
/// (`GetTargetNodeName`): how a DaemonSet's pod names its node before the scheduler binds it.
#[must_use]
pub fn target_node(spec: &k8s_openapi::api::core::v1::PodSpec) -> Option<&str> {
    spec.node_name.as_deref().filter(|n| !n.is_empty()).or_else(|| {
        let required =
            spec.affinity.as_ref()?.node_affinity.as_ref()?.required_during_scheduling_ignored_during_execution.as_ref()?;
        required.node_selector_terms.iter().flat_map(|t| t.match_fields.iter().flatten()).find_map(|r| {
            match r.values.as_deref() {
                Some([node]) if r.key == "metadata.name" && r.operator == "In" => Some(node.as_str()),
                _ => None,
            }
        })
    })
}

impl NodeObs {
    /// A node's scheduling facts.
    #[must_use]
    pub fn of(node: &k8s_openapi::api::core::v1::Node) -> Self {
        let spec = node.spec.clone().unwrap_or_default();
        NodeObs {
            name: node.metadata.name.clone().unwrap_or_default(),
            labels: node.metadata.labels.clone().unwrap_or_default(),
            taints: spec
                .taints
                .iter()
                .flatten()
                .map(|t| TaintObs { key: t.key.clone(), value: t.value.clone().unwrap_or_default(), effect: t.effect.clone() })
                .collect(),
            unschedulable: spec.unschedulable.unwrap_or(false),
        }
    }
}

impl DaemonSetObs {
    /// A DaemonSet's placement and status.
    #[must_use]
    pub fn of(set: &k8s_openapi::api::apps::v1::DaemonSet) -> Self {
        let status = set.status.clone().unwrap_or_default();
        let count = |n: i32| u32::try_from(n).unwrap_or(0);
        let rolling = set.spec.as_ref().and_then(|s| s.update_strategy.as_ref()).and_then(|u| u.rolling_update.as_ref());
        let int_or_string = |v: &k8s_openapi::apimachinery::pkg::util::intstr::IntOrString| match v {
            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(n) => n.to_string(),
            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s) => s.clone(),
        };
        DaemonSetObs {
            name: set.metadata.name.clone().unwrap_or_default(),
            uid: set.metadata.uid.clone().unwrap_or_default(),
            generation: set.metadata.generation,
            observed_generation: status.observed_generation,
            placement: set.spec.as_ref().and_then(|s| s.template.spec.as_ref()).map(Placement::of).unwrap_or_default(),
            update_strategy: set
                .spec
                .as_ref()
                .and_then(|s| s.update_strategy.as_ref())
                .and_then(|u| u.type_.clone())
                .unwrap_or_default(),
            max_unavailable: rolling.and_then(|r| r.max_unavailable.as_ref()).map(int_or_string),
            max_surge: rolling.and_then(|r| r.max_surge.as_ref()).map(int_or_string),
            min_ready_seconds: set.spec.as_ref().and_then(|s| s.min_ready_seconds).map_or(0, |m| u32::try_from(m).unwrap_or(0)),
            desired: count(status.desired_number_scheduled),
            scheduled: count(status.current_number_scheduled),
            ready: count(status.number_ready),
            available: status.number_available.map_or(0, count),
            updated: status.updated_number_scheduled.map_or(0, count),
            misscheduled: count(status.number_misscheduled),
        }
    }
}

impl std::fmt::Display for TaintObs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.value.as_str() {
            "" => write!(f, "{}:{}", self.key, self.effect),
            value => write!(f, "{}={value}:{}", self.key, self.effect),
        }
    }
}

/// What the checks need of a DaemonSet: where its pods belong, and its status.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DaemonSetObs {
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
    /// `metadata.generation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
    /// `status.observedGeneration`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The pod template's placement.
    #[serde(default)]
    pub placement: Placement,
    /// `spec.updateStrategy.type`: RollingUpdate (the default) or OnDelete.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub update_strategy: String,
    /// `spec.updateStrategy.rollingUpdate.maxUnavailable` as written (`1`, `25%`; default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_unavailable: Option<String>,
    /// `spec.updateStrategy.rollingUpdate.maxSurge` as written (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_surge: Option<String>,
    /// `spec.minReadySeconds` (default 0): how long a Ready pod waits to count as available.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub min_ready_seconds: u32,
    /// `status.desiredNumberScheduled`.
    #[serde(default)]
    pub desired: u32,
    /// `status.currentNumberScheduled`.
    #[serde(default)]
    pub scheduled: u32,
    /// `status.numberReady`.
    #[serde(default)]
    pub ready: u32,
    /// `status.numberAvailable`.
    #[serde(default)]
    pub available: u32,
    /// `status.updatedNumberScheduled`.
    #[serde(default)]
    pub updated: u32,
    /// `status.numberMisscheduled`.
    #[serde(default)]
    pub misscheduled: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// An `IntOrString` count of `total` (`GetScaledValueFromIntOrPercent`, rounding up): `3`, or
/// `25%` of `total`. `None` when unreadable.
#[must_use]
pub fn scaled(value: &str, total: u32) -> Option<u32> {
    match value.strip_suffix('%') {
        Some(percent) => {
            let p: u64 = percent.trim().parse().ok()?;
            u32::try_from((p * u64::from(total)).div_ceil(100)).ok()
        }
        None => value.trim().parse().ok(),
    }
}

impl DaemonSetObs {
    /// How many of `admitted` nodes a rolling update may leave without an available pod at
    /// once (`maxUnavailable`, default 1), when the update is one that deletes before it
    /// creates (`maxSurge` 0, the default); `None` for OnDelete, a surge, or an unreadable value.
    #[must_use]
    pub fn unavailable_budget(&self, admitted: u32) -> Option<u32> {
        // With minReadySeconds a Ready pod may not be available yet, which the timeline cannot
        // tell (availability is the controller's clock): no bound is judged then.
        if self.update_strategy == "OnDelete" || self.min_ready_seconds > 0 {
            return None;
        }
        if self.max_surge.as_deref().is_some_and(|s| scaled(s, admitted) != Some(0)) {
            return None;
        }
        self.max_unavailable.as_deref().map_or(Some(1), |v| scaled(v, admitted))
    }

    /// Whether the status describes the latest spec and every wanted pod is updated and
    /// available, as `kubectl rollout status daemonset` decides.
    #[must_use]
    pub fn rolled_out(&self) -> bool {
        self.observed_generation >= self.generation && self.updated >= self.desired && self.available >= self.desired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, labels: &[(&str, &str)], taints: &[(&str, &str)]) -> NodeObs {
        NodeObs {
            name: name.into(),
            labels: labels.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect(),
            taints: taints
                .iter()
                .map(|(k, e)| TaintObs { key: (*k).into(), value: String::new(), effect: (*e).into() })
                .collect(),
            unschedulable: false,
        }
    }

    fn control_plane() -> NodeObs {
        node("cp", &[("node-role.kubernetes.io/control-plane", "")], &[("node-role.kubernetes.io/control-plane", "NoSchedule")])
    }

    fn toleration(key: &str, operator: &str, effect: &str) -> TolerationObs {
        TolerationObs { key: key.into(), operator: operator.into(), value: String::new(), effect: effect.into() }
    }

    #[test]
    fn a_tainted_control_plane_gets_a_daemon_pod_only_with_the_toleration() {
        let plain = Placement::default();
        let d = plain.on(&control_plane());
        assert!(!d.should_run);
        assert!(d.should_continue, "NoSchedule does not evict a pod already there");
        assert!(d.reason.expect("why").contains("node-role.kubernetes.io/control-plane:NoSchedule"));
        let tolerant = Placement {
            tolerations: vec![toleration("node-role.kubernetes.io/control-plane", "Exists", "NoSchedule")],
            ..Placement::default()
        };
        assert!(tolerant.on(&control_plane()).should_run);
        assert!(plain.on(&node("w", &[], &[])).should_run);
    }

    #[test]
    fn the_controllers_own_tolerations_admit_cordoned_and_pressured_nodes_not_a_noexecute_taint() {
        let plain = Placement::default();
        let cordoned = node("w", &[], &[("node.kubernetes.io/unschedulable", "NoSchedule")]);
        assert!(plain.on(&cordoned).should_run, "daemon pods tolerate unschedulable");
        let pressured = node("w", &[], &[("node.kubernetes.io/memory-pressure", "NoSchedule")]);
        assert!(plain.on(&pressured).should_run);
        let dedicated = node("w", &[], &[("dedicated", "NoExecute")]);
        let d = plain.on(&dedicated);
        assert!(!d.should_run && !d.should_continue, "an untolerated NoExecute taint evicts");
        let network = node("w", &[], &[("node.kubernetes.io/network-unavailable", "NoSchedule")]);
        assert!(!plain.on(&network).should_run);
        assert!(Placement { host_network: true, ..Placement::default() }.on(&network).should_run);
    }

    #[test]
    fn tolerations_match_as_the_api_defines() {
        let taint = TaintObs { key: "k".into(), value: "v".into(), effect: "NoSchedule".into() };
        assert!(tolerates(&toleration("", "Exists", ""), &taint), "an empty key with Exists tolerates everything");
        assert!(tolerates(&toleration("k", "Exists", "NoSchedule"), &taint));
        assert!(!tolerates(&toleration("k", "Exists", "NoExecute"), &taint));
        assert!(!tolerates(&toleration("k", "Equal", ""), &taint), "Equal compares the value");
        let equal = TolerationObs { key: "k".into(), operator: String::new(), value: "v".into(), effect: String::new() };
        assert!(tolerates(&equal, &taint), "Equal is the default operator");
        assert!(!tolerates(&toleration("other", "Exists", ""), &taint));
    }

    #[test]
    fn node_selector_and_affinity_narrow_the_nodes() {
        let ssd = node("a", &[("disktype", "ssd"), ("node-type", "worker")], &[]);
        let hdd = node("b", &[("disktype", "hdd"), ("cores", "8")], &[]);
        let selector = Placement { node_selector: [("disktype".to_owned(), "ssd".to_owned())].into(), ..Placement::default() };
        assert!(selector.on(&ssd).should_run);
        assert!(!selector.on(&hdd).should_run);
        let term = |key: &str, operator: &str, values: &[&str]| TermObs {
            match_expressions: vec![RequirementObs {
                key: key.into(),
                operator: operator.into(),
                values: values.iter().map(|v| (*v).into()).collect(),
            }],
            match_fields: vec![],
        };
        let affinity = |terms: Vec<TermObs>| Placement { required_terms: Some(terms), ..Placement::default() };
        assert!(affinity(vec![term("node-type", "In", &["worker"])]).selects(&ssd));
        assert!(!affinity(vec![term("node-type", "In", &["worker"])]).selects(&hdd));
        assert!(affinity(vec![term("node-type", "NotIn", &["worker"])]).selects(&hdd), "NotIn holds for an absent label");
        assert!(
            affinity(vec![term("node-type", "In", &["worker"]), term("cores", "Gt", &["4"])]).selects(&hdd),
            "terms are ORed"
        );
        assert!(!affinity(vec![term("cores", "Lt", &["4"])]).selects(&hdd));
        assert!(affinity(vec![term("disktype", "DoesNotExist", &[])]).selects(&node("c", &[], &[])));
        assert!(!affinity(vec![]).selects(&ssd), "no term matches nothing");
        assert!(!affinity(vec![TermObs::default()]).selects(&ssd), "an empty term matches nothing");
        let by_name = TermObs {
            match_expressions: vec![],
            match_fields: vec![RequirementObs { key: "metadata.name".into(), operator: "In".into(), values: vec!["b".into()] }],
        };
        assert!(affinity(vec![by_name.clone()]).selects(&hdd));
        assert!(!affinity(vec![by_name]).selects(&ssd));
        assert!(!Placement { node_name: Some("b".into()), ..Placement::default() }.selects(&ssd));
    }

    #[test]
    fn nodes_and_daemon_sets_read_from_the_api_objects() {
        let node: k8s_openapi::api::core::v1::Node = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "kwok-node-0", "labels": {"node-role.kubernetes.io/control-plane": ""}},
            "spec": {"taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}], "unschedulable": true}
        }))
        .expect("a node");
        let obs = NodeObs::of(&node);
        assert_eq!(obs.taints[0].to_string(), "node-role.kubernetes.io/control-plane:NoSchedule");
        assert!(obs.unschedulable && obs.labels.contains_key("node-role.kubernetes.io/control-plane"));
        let set: k8s_openapi::api::apps::v1::DaemonSet = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "fluentd", "uid": "u", "generation": 2},
            "spec": {
                "selector": {"matchLabels": {"name": "fluentd"}},
                "template": {"spec": {
                    "containers": [{"name": "fluentd", "image": "fluentd:latest"}],
                    "nodeSelector": {"disktype": "ssd"},
                    "tolerations": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}],
                    "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["kwok-node-1"]}]}
                    ]}}}
                }}
            },
            "status": {"desiredNumberScheduled": 2, "currentNumberScheduled": 2, "numberReady": 1, "numberAvailable": 1,
                       "updatedNumberScheduled": 2, "numberMisscheduled": 0, "observedGeneration": 2}
        }))
        .expect("a DaemonSet");
        let obs = DaemonSetObs::of(&set);
        assert_eq!((obs.desired, obs.ready, obs.available, obs.updated), (2, 1, 1, 2));
        assert!(!obs.rolled_out(), "one pod is not available yet");
        assert_eq!(obs.placement.node_selector.get("disktype").map(String::as_str), Some("ssd"));
        assert_eq!(obs.placement.tolerations[0].operator, "Exists");
        let template = set.spec.as_ref().and_then(|s| s.template.spec.as_ref()).expect("a template");
        assert_eq!(target_node(template), Some("kwok-node-1"), "a daemon pod's node, from its affinity");
    }

    #[test]
    fn max_unavailable_scales_like_the_api_and_only_bounds_a_delete_first_roll() {
        assert_eq!(scaled("2", 10), Some(2));
        assert_eq!(scaled("25%", 10), Some(3), "percentages round up");
        assert_eq!(scaled("x", 10), None);
        let set = |strategy: &str, unavailable: Option<&str>, surge: Option<&str>| DaemonSetObs {
            update_strategy: strategy.into(),
            max_unavailable: unavailable.map(Into::into),
            max_surge: surge.map(Into::into),
            ..DaemonSetObs::default()
        };
        assert_eq!(set("", None, None).unavailable_budget(3), Some(1), "the default is 1");
        assert_eq!(set("RollingUpdate", Some("50%"), Some("0")).unavailable_budget(3), Some(2));
        assert_eq!(set("RollingUpdate", Some("0"), Some("1")).unavailable_budget(3), None, "a surge creates first");
        assert_eq!(set("OnDelete", None, None).unavailable_budget(3), None);
        let slow = DaemonSetObs { min_ready_seconds: 10, ..DaemonSetObs::default() };
        assert_eq!(slow.unavailable_budget(3), None, "availability is the controller's clock");
    }
}
