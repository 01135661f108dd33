//! What a cluster must offer for a step to run, beyond the API: containers that really run
//! (exec for `hostname` and tokens; a probe pod that can resolve and fetch), and cluster DNS.
//!
//! Each step declares what it needs through its action ([`needs`]); live preflight finds what
//! the cluster offers; a missing capability is an environment error (exit 3) naming it and the
//! claims that need it, unless the user accepts skipping them (`--skip-unsupported`): then those
//! steps do not run and their claims are reported `skipped` with the reason — never a pass,
//! never a failure.

use std::{collections::BTreeMap, fmt};

use serde::Serialize;

use crate::scenario::{Action, Scenario, Via};

/// Something a step needs from the cluster beyond its API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// Pods run real containers: the harness can exec into them and a probe pod can run
    /// commands (simulated nodes such as kwok's run none).
    Containers,
    /// Cluster DNS answers from inside pods (`kube-system/kube-dns` with ready endpoints).
    ClusterDns,
}

impl Capability {
    /// Every capability.
    pub const ALL: [Capability; 2] = [Capability::Containers, Capability::ClusterDns];

    /// Its name in messages and reports.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Containers => "containers",
            Capability::ClusterDns => "cluster-dns",
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Capabilities the cluster lacks, each with what preflight found.
pub type Missing = BTreeMap<Capability, String>;

/// What an action needs beyond the API.
#[must_use]
pub fn needs(action: &Action) -> Vec<Capability> {
    match action {
        Action::Hostnames(_)
        | Action::WriteToken { .. }
        | Action::ReadToken { .. }
        | Action::BreakReadiness(_)
        | Action::RestoreReadiness(_)
        | Action::FailPod(_) => vec![Capability::Containers],
        Action::Dns(_) => vec![Capability::Containers, Capability::ClusterDns],
        Action::Http(http) => match http.via {
            Via::Ip => vec![Capability::Containers],
            Via::Dns => vec![Capability::Containers, Capability::ClusterDns],
        },
        Action::Wait
        | Action::Apply(_)
        | Action::ApplyRefused(_)
        | Action::Scale { .. }
        | Action::SetImage { .. }
        | Action::Patch { .. }
        | Action::DeletePod(_)
        | Action::DeleteDeploymentPod(_)
        | Action::DeleteStatefulSet(_)
        | Action::ApiSurface { .. }
        | Action::PatchPod { .. }
        | Action::DeleteCollection(_) => vec![],
    }
}

/// The first capability in `missing` that `action` needs, with its reason.
#[must_use]
pub fn lacking<'a>(action: &Action, missing: &'a Missing) -> Option<(Capability, &'a str)> {
    first_missing(&needs(action), missing)
}

/// The first of `needs` that is in `missing`, with its reason.
#[must_use]
pub fn first_missing<'a>(needs: &[Capability], missing: &'a Missing) -> Option<(Capability, &'a str)> {
    needs.iter().find_map(|c| missing.get(c).map(|why| (*c, why.as_str())))
}

/// What each step of `scenario` needs: its action's needs and, once a step has held pods
/// unready (`breakReadiness`), that step's too — the steps after it are about pods held
/// unready, and on pods that are not their evidence would mean something else.
#[must_use]
pub fn step_needs(scenario: &Scenario) -> Vec<Vec<Capability>> {
    let mut held: Vec<Capability> = Vec::new();
    scenario
        .steps
        .iter()
        .map(|step| {
            let mut own = needs(&step.action);
            for c in &held {
                if !own.contains(c) {
                    own.push(*c);
                }
            }
            if matches!(step.action, Action::BreakReadiness(_)) && held.is_empty() {
                held = own.clone();
            }
            own
        })
        .collect()
}

/// For each missing capability, the claims of `scenarios` whose evidence needs it, sorted.
#[must_use]
pub fn claims_needing(scenarios: &[&Scenario], missing: &Missing) -> BTreeMap<Capability, Vec<String>> {
    let mut out: BTreeMap<Capability, Vec<String>> = BTreeMap::new();
    for scenario in scenarios {
        for (step, needs) in scenario.steps.iter().zip(step_needs(scenario)) {
            for capability in needs.into_iter().filter(|c| missing.contains_key(c)) {
                let claims = out.entry(capability).or_default();
                claims.extend(step.expect.iter().flat_map(|e| e.claims.iter().cloned()));
            }
        }
    }
    for claims in out.values_mut() {
        claims.sort();
        claims.dedup();
    }
    out
}
