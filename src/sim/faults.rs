//! Faults: named, deliberate deviations of the simulated cluster from one documented guarantee
//! each, to prove that the checks catch what they exist for (`selftest`, `run --sim-fault`).
//!
//! A fault changes only the simulated cluster — its controller, kubelet, binder or DNS. The
//! checks know nothing of faults: they judge the recorded history as they judge any other.

use std::{fmt, str::FromStr};

use crate::checks::CheckName;

/// One deliberate misbehaviour of the simulated cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    /// OrderedReady creates the next pod as soon as the previous one exists.
    CreateBeforeReady,
    /// OrderedReady creates the next pod once the previous one is Running, before it is Ready.
    CreateWhenRunning,
    /// On scale-up a pod's readiness flaps, and the controller scales past it.
    ScalePastUnready,
    /// Scale-down removes the lowest condemned ordinal first.
    ScaleDownLowestFirst,
    /// Scale-down terminates two pods at once.
    ScaleDownTwoAtOnce,
    /// A scale-down restarts a pod it keeps.
    SurvivorsRestarted,
    /// A rolling update replaces pods from the lowest ordinal up.
    RolloutUpward,
    /// A rolling update replaces the next pod before the replaced one is Ready again.
    RolloutNoWait,
    /// A rolling update ignores the partition.
    PartitionIgnored,
    /// A pod below the partition that is deleted comes back on the update revision.
    PartitionRestoreUpdated,
    /// Claims are named `<pod>-<template>` instead of `<template>-<pod>`.
    PvcNameReversed,
    /// Every pod mounts the claim of ordinal 0.
    SharedClaim,
    /// Scale-down deletes the removed pods' claims although the policy says Retain.
    ClaimsDeletedOnScaleDown,
    /// Claims get no owner reference to the set although `whenDeleted` is Delete.
    ClaimsNotOwned,
    /// A recreated pod gets a new, empty claim instead of its old one.
    FreshClaimOnRecreate,
    /// A recreated pod keeps its claim but the volume's data is gone.
    DataLostOnRecreate,
    /// A pod deleted by a user comes back under another name.
    RecreatedRenamed,
    /// `hostname` inside a pod prints the node's name, not the pod's.
    HostnameIsNodeName,
    /// The highest ordinal's per-pod DNS record is missing.
    DnsPodRecordMissing,
    /// Each per-pod DNS record holds the next pod's IP.
    DnsRecordWrongIp,
    /// The Service name's DNS answer leaves out one pod.
    ServiceRecordMissingPod,
    /// A Service asking for `clusterIP: None` gets a cluster IP.
    HeadlessGetsClusterIp,
    /// `podManagementPolicy: Parallel` behaves like OrderedReady.
    ParallelAsOrdered,
    /// OrderedReady takes a pod whose readiness probe fails for Ready, and scales past it.
    IgnoresUnready,
    /// Parallel creates and deletes nothing while a pod of the set is unready.
    ParallelWaitsForReady,
    /// The controller ignores `spec.ordinals.start`: its pods are numbered from 0.
    StartOrdinalIgnored,
    /// OrderedReady goes on as soon as a pod is Ready, ignoring `minReadySeconds`.
    MinReadyIgnored,
    /// A pod that failed is left as it is, never deleted and made again.
    FailedPodKept,
    /// The `apps.kubernetes.io/pod-index` label counts from 1 past the start ordinal.
    PodIndexLabelWrong,
    /// A rolling update with `maxUnavailable` takes one pod more out at once.
    MaxUnavailableExceeded,
    /// A write of the scale subresource answers with the replicas sent but stores nothing.
    ScaleWriteIgnored,
    /// A write of the status subresource answers with the condition sent but stores none.
    StatusWriteDropped,
    /// A list (and a delete-collection) of StatefulSets by labels ignores the labels.
    ListIgnoresLabels,
    /// The controller never adopts an orphan pod that matches its selector.
    OrphansNotAdopted,
    /// The controller keeps controlling a pod whose labels no longer match its selector.
    MismatchedPodsKept,
    /// With `updateStrategy: OnDelete` the controller rolls a template change out anyway.
    OnDeleteRolls,
    /// A template the set had before gets a new revision instead of its old one.
    RollbackNewRevision,
    /// The status's current revision never advances once a roll-out is complete.
    StatusRevisionStale,
    /// A claim whose class has no volume left is bound to a new volume anyway.
    StaticShortageBindsAnyway,
    /// The DaemonSet controller leaves the last node it should run on without a pod.
    DaemonNodeSkipped,
    /// The DaemonSet controller ignores taints: a pod for a node it may not run on.
    DaemonIgnoresTaints,
    /// The DaemonSet controller runs two pods on the first node.
    DaemonTwoOnANode,
    /// A DaemonSet's rolling update deletes every old pod at once, past maxUnavailable.
    DaemonRolloutUnbounded,
    /// The Job controller runs one pod more than `parallelism` at once.
    JobParallelismExceeded,
    /// The Job controller runs one pod more than `completions` to success.
    JobCompletionsExceeded,
    /// The Job controller retries failed pods past `backoffLimit` and never marks the Job Failed.
    JobBackoffIgnored,
    /// The CronJob controller creates the first Job, then misses every later time.
    CronjobTickMissed,
    /// The CronJob controller treats `concurrencyPolicy: Forbid` as Allow.
    CronjobForbidIgnored,
    /// The CronJob controller never deletes finished Jobs beyond the history limits.
    CronjobHistoryUnbounded,
    /// The API server accepts an object its validation must refuse.
    InvalidObjectAccepted,
}

impl Fault {
    /// Every fault, in report order.
    pub const ALL: [Fault; 50] = [
        Fault::CreateBeforeReady,
        Fault::CreateWhenRunning,
        Fault::ScalePastUnready,
        Fault::ScaleDownLowestFirst,
        Fault::ScaleDownTwoAtOnce,
        Fault::SurvivorsRestarted,
        Fault::RolloutUpward,
        Fault::RolloutNoWait,
        Fault::PartitionIgnored,
        Fault::PartitionRestoreUpdated,
        Fault::PvcNameReversed,
        Fault::SharedClaim,
        Fault::ClaimsDeletedOnScaleDown,
        Fault::ClaimsNotOwned,
        Fault::FreshClaimOnRecreate,
        Fault::DataLostOnRecreate,
        Fault::RecreatedRenamed,
        Fault::HostnameIsNodeName,
        Fault::DnsPodRecordMissing,
        Fault::DnsRecordWrongIp,
        Fault::ServiceRecordMissingPod,
        Fault::HeadlessGetsClusterIp,
        Fault::ParallelAsOrdered,
        Fault::IgnoresUnready,
        Fault::ParallelWaitsForReady,
        Fault::StartOrdinalIgnored,
        Fault::MinReadyIgnored,
        Fault::FailedPodKept,
        Fault::PodIndexLabelWrong,
        Fault::MaxUnavailableExceeded,
        Fault::ScaleWriteIgnored,
        Fault::StatusWriteDropped,
        Fault::ListIgnoresLabels,
        Fault::OrphansNotAdopted,
        Fault::MismatchedPodsKept,
        Fault::OnDeleteRolls,
        Fault::RollbackNewRevision,
        Fault::StatusRevisionStale,
        Fault::StaticShortageBindsAnyway,
        Fault::DaemonNodeSkipped,
        Fault::DaemonIgnoresTaints,
        Fault::DaemonTwoOnANode,
        Fault::DaemonRolloutUnbounded,
        Fault::JobParallelismExceeded,
        Fault::JobCompletionsExceeded,
        Fault::JobBackoffIgnored,
        Fault::CronjobTickMissed,
        Fault::CronjobForbidIgnored,
        Fault::CronjobHistoryUnbounded,
        Fault::InvalidObjectAccepted,
    ];

    /// The name used on the command line (`create-before-ready`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Fault::CreateBeforeReady => "create-before-ready",
            Fault::CreateWhenRunning => "create-when-running",
            Fault::ScalePastUnready => "scale-past-unready",
            Fault::ScaleDownLowestFirst => "scale-down-lowest-first",
            Fault::ScaleDownTwoAtOnce => "scale-down-two-at-once",
            Fault::SurvivorsRestarted => "survivors-restarted",
            Fault::RolloutUpward => "rollout-upward",
            Fault::RolloutNoWait => "rollout-no-wait",
            Fault::PartitionIgnored => "partition-ignored",
            Fault::PartitionRestoreUpdated => "partition-restore-updated",
            Fault::PvcNameReversed => "pvc-name-reversed",
            Fault::SharedClaim => "shared-claim",
            Fault::ClaimsDeletedOnScaleDown => "claims-deleted-on-scale-down",
            Fault::ClaimsNotOwned => "claims-not-owned",
            Fault::FreshClaimOnRecreate => "fresh-claim-on-recreate",
            Fault::DataLostOnRecreate => "data-lost-on-recreate",
            Fault::RecreatedRenamed => "recreated-renamed",
            Fault::HostnameIsNodeName => "hostname-is-node-name",
            Fault::DnsPodRecordMissing => "dns-pod-record-missing",
            Fault::DnsRecordWrongIp => "dns-record-wrong-ip",
            Fault::ServiceRecordMissingPod => "service-record-missing-pod",
            Fault::HeadlessGetsClusterIp => "headless-gets-cluster-ip",
            Fault::ParallelAsOrdered => "parallel-as-ordered",
            Fault::IgnoresUnready => "ignores-unready",
            Fault::ParallelWaitsForReady => "parallel-waits-for-ready",
            Fault::StartOrdinalIgnored => "start-ordinal-ignored",
            Fault::MinReadyIgnored => "min-ready-ignored",
            Fault::FailedPodKept => "failed-pod-kept",
            Fault::PodIndexLabelWrong => "pod-index-label-wrong",
            Fault::MaxUnavailableExceeded => "max-unavailable-exceeded",
            Fault::ScaleWriteIgnored => "scale-write-ignored",
            Fault::StatusWriteDropped => "status-write-dropped",
            Fault::ListIgnoresLabels => "list-ignores-labels",
            Fault::OrphansNotAdopted => "orphans-not-adopted",
            Fault::MismatchedPodsKept => "mismatched-pods-kept",
            Fault::OnDeleteRolls => "on-delete-rolls",
            Fault::RollbackNewRevision => "rollback-new-revision",
            Fault::StatusRevisionStale => "status-revision-stale",
            Fault::StaticShortageBindsAnyway => "static-shortage-binds-anyway",
            Fault::DaemonNodeSkipped => "daemon-node-skipped",
            Fault::DaemonIgnoresTaints => "daemon-ignores-taints",
            Fault::DaemonTwoOnANode => "daemon-two-on-a-node",
            Fault::DaemonRolloutUnbounded => "daemon-rollout-unbounded",
            Fault::JobParallelismExceeded => "job-parallelism-exceeded",
            Fault::JobCompletionsExceeded => "job-completions-exceeded",
            Fault::JobBackoffIgnored => "job-backoff-ignored",
            Fault::CronjobTickMissed => "cronjob-tick-missed",
            Fault::CronjobForbidIgnored => "cronjob-forbid-ignored",
            Fault::CronjobHistoryUnbounded => "cronjob-history-unbounded",
            Fault::InvalidObjectAccepted => "invalid-object-accepted",
        }
    }

    /// What the fault does, in one line.
    #[must_use]
    pub fn description(self) -> &'static str {
        match self {
            Fault::CreateBeforeReady => "OrderedReady creates the next pod as soon as the previous one exists",
            Fault::CreateWhenRunning => "OrderedReady creates the next pod once the previous is Running, before it is Ready",
            Fault::ScalePastUnready => "on scale-up pod 0's readiness flaps and the controller scales past it",
            Fault::ScaleDownLowestFirst => "scale-down removes the lowest condemned ordinal first",
            Fault::ScaleDownTwoAtOnce => "scale-down terminates two pods at once",
            Fault::SurvivorsRestarted => "a scale-down restarts the container of pod 0, which it keeps",
            Fault::RolloutUpward => "a rolling update replaces pods from the lowest ordinal up",
            Fault::RolloutNoWait => "a rolling update replaces the next pod before the replaced one is Ready again",
            Fault::PartitionIgnored => "a rolling update ignores the partition",
            Fault::PartitionRestoreUpdated => "a deleted pod below the partition comes back on the update revision",
            Fault::PvcNameReversed => "claims are named <pod>-<template> instead of <template>-<pod>",
            Fault::SharedClaim => "every pod mounts the claim of ordinal 0",
            Fault::ClaimsDeletedOnScaleDown => "scale-down deletes the removed pods' claims although the policy is Retain",
            Fault::ClaimsNotOwned => "claims get no owner reference to the set although whenDeleted is Delete",
            Fault::FreshClaimOnRecreate => "a recreated pod gets a new, empty claim instead of its old one",
            Fault::DataLostOnRecreate => "a recreated pod keeps its claim but the volume's data is gone",
            Fault::RecreatedRenamed => "a pod deleted by a user comes back under another name",
            Fault::HostnameIsNodeName => "`hostname` inside a pod prints the node's name",
            Fault::DnsPodRecordMissing => "the highest ordinal's per-pod DNS record is missing",
            Fault::DnsRecordWrongIp => "each per-pod DNS record holds the next pod's IP",
            Fault::ServiceRecordMissingPod => "the Service name's DNS answer leaves out one Ready pod",
            Fault::HeadlessGetsClusterIp => "a Service asking for clusterIP: None gets a cluster IP",
            Fault::ParallelAsOrdered => "podManagementPolicy: Parallel behaves like OrderedReady",
            Fault::IgnoresUnready => "OrderedReady takes a pod whose readiness probe fails for Ready and scales past it",
            Fault::ParallelWaitsForReady => "Parallel creates and deletes nothing while a pod of the set is unready",
            Fault::StartOrdinalIgnored => "the controller ignores spec.ordinals.start and numbers the pods from 0",
            Fault::MinReadyIgnored => "OrderedReady goes on as soon as a pod is Ready, ignoring minReadySeconds",
            Fault::FailedPodKept => "a pod that failed is left as it is, never deleted and made again",
            Fault::PodIndexLabelWrong => "the apps.kubernetes.io/pod-index label counts from 1 past the start ordinal",
            Fault::MaxUnavailableExceeded => "a rolling update with maxUnavailable takes one pod more out at once",
            Fault::ScaleWriteIgnored => "a write of the scale subresource answers with the replicas sent but stores nothing",
            Fault::StatusWriteDropped => "a write of the status subresource answers with the condition sent but stores none",
            Fault::ListIgnoresLabels => "a list or delete-collection of StatefulSets by labels ignores the labels",
            Fault::OrphansNotAdopted => "the controller never adopts an orphan pod that matches its selector",
            Fault::MismatchedPodsKept => "the controller keeps controlling a pod whose labels no longer match its selector",
            Fault::OnDeleteRolls => "with updateStrategy OnDelete the controller rolls a template change out anyway",
            Fault::RollbackNewRevision => "a template the set had before gets a new revision instead of its old one",
            Fault::StatusRevisionStale => "the status's currentRevision never advances once a roll-out is complete",
            Fault::StaticShortageBindsAnyway => "a claim whose class has no volume left is given a new volume anyway",
            Fault::DaemonNodeSkipped => "the DaemonSet controller leaves the last node it should run on without a pod",
            Fault::DaemonIgnoresTaints => "the DaemonSet controller ignores taints and runs a pod on the tainted node",
            Fault::DaemonTwoOnANode => "the DaemonSet controller runs two pods on the first node",
            Fault::DaemonRolloutUnbounded => "a DaemonSet's rolling update deletes every old pod at once, past maxUnavailable",
            Fault::JobParallelismExceeded => "the Job controller runs one pod more than parallelism at once",
            Fault::JobCompletionsExceeded => "the Job controller runs one pod more than completions to success",
            Fault::JobBackoffIgnored => "the Job controller retries failed pods past backoffLimit",
            Fault::CronjobTickMissed => "the CronJob controller creates its first Job, then misses every later time",
            Fault::CronjobForbidIgnored => {
                "the CronJob controller starts a Job while another runs under concurrencyPolicy Forbid"
            }
            Fault::CronjobHistoryUnbounded => "the CronJob controller keeps finished Jobs beyond the history limits",
            Fault::InvalidObjectAccepted => "the API server accepts a Job whose restartPolicy is Always",
        }
    }

    /// The checks this fault breaks. A fault is detected when one of them fails; any other
    /// check failing under it is a false alarm. A fault may break more than one check when
    /// one guarantee rests on another (a claim deleted cannot be reattached).
    #[must_use]
    pub fn breaks(self) -> &'static [CheckName] {
        use CheckName as C;
        match self {
            // Each also creates past a pod held unready, and goes on to remove the pods below
            // a raised start ordinal before the pods it keeps are Ready.
            Fault::CreateBeforeReady | Fault::CreateWhenRunning | Fault::ScalePastUnready => {
                &[C::OrderedCreation, C::HaltOnUnhealthy, C::ReverseTermination]
            }
            Fault::ScaleDownLowestFirst | Fault::ScaleDownTwoAtOnce => &[C::ReverseTermination],
            Fault::SurvivorsRestarted => &[C::SurvivorsUnchanged],
            // Upward, a roll-out with maxUnavailable also replaces a pod below one not yet updated.
            Fault::RolloutUpward => &[C::ReverseRollout, C::MaxUnavailable],
            Fault::RolloutNoWait | Fault::PartitionIgnored | Fault::PartitionRestoreUpdated => &[C::ReverseRollout],
            Fault::PvcNameReversed => &[C::PvcNaming],
            // Under whenScaled: Delete the shared claim goes with the first pod a scale-down removes.
            Fault::SharedClaim => &[C::PvcNaming, C::PvcRetention],
            Fault::ClaimsDeletedOnScaleDown => &[C::PvcRetention],
            Fault::ClaimsNotOwned => &[C::PvcRetention],
            Fault::FreshClaimOnRecreate => &[C::Reattach, C::Persistence],
            Fault::DataLostOnRecreate => &[C::Persistence],
            Fault::RecreatedRenamed => &[C::StableIdentity],
            Fault::HostnameIsNodeName => &[C::StableIdentity],
            // pod-http by DNS name reaches the wrong pod or none.
            Fault::DnsPodRecordMissing | Fault::DnsRecordWrongIp => &[C::Dns, C::PodHttp],
            Fault::ServiceRecordMissingPod => &[C::Dns],
            // The dns check judges answers against the Service as observed (with a cluster IP,
            // per-pod names are rightly absent); pod-http by DNS name fails as a consequence.
            Fault::HeadlessGetsClusterIp => &[C::HeadlessService, C::PodHttp],
            Fault::ParallelAsOrdered | Fault::ParallelWaitsForReady => &[C::ParallelBurst],
            Fault::IgnoresUnready => &[C::HaltOnUnhealthy],
            Fault::StartOrdinalIgnored => &[C::StableIdentity],
            Fault::MinReadyIgnored => &[C::MinReady],
            Fault::FailedPodKept => &[C::FailedReplaced],
            Fault::PodIndexLabelWrong => &[C::StableIdentity],
            Fault::MaxUnavailableExceeded => &[C::MaxUnavailable],
            Fault::ScaleWriteIgnored | Fault::StatusWriteDropped | Fault::ListIgnoresLabels => &[C::ApiSurface],
            Fault::OrphansNotAdopted | Fault::MismatchedPodsKept => &[C::Adoption],
            Fault::OnDeleteRolls => &[C::OnDelete],
            Fault::RollbackNewRevision | Fault::StatusRevisionStale => &[C::Revisions],
            Fault::StaticShortageBindsAnyway => &[C::StaticShortage],
            Fault::DaemonNodeSkipped | Fault::DaemonIgnoresTaints | Fault::DaemonTwoOnANode | Fault::DaemonRolloutUnbounded => {
                &[C::DaemonsetCoverage]
            }
            Fault::JobParallelismExceeded | Fault::JobCompletionsExceeded => &[C::JobCompletion],
            Fault::CronjobTickMissed | Fault::CronjobForbidIgnored | Fault::CronjobHistoryUnbounded => &[C::CronjobSchedule],
            Fault::InvalidObjectAccepted => &[C::ApiRefusal],
            Fault::JobBackoffIgnored => &[C::JobBackoff],
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Fault {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Fault::ALL.into_iter().find(|f| f.name() == s).ok_or_else(|| {
            let known: Vec<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
            format!("unknown fault `{s}` (known: {})", known.join(", "))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut names: Vec<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
        for fault in Fault::ALL {
            assert_eq!(fault.name().parse::<Fault>(), Ok(fault));
            assert!(!fault.breaks().is_empty());
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Fault::ALL.len());
        assert!("nope".parse::<Fault>().unwrap_err().contains("create-before-ready"));
    }
}

/// A misbehaviour of a simulated node-by-node upgrade (`sim upgrade --sim-fault`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UpgradeFault {
    /// The data on the pods' volumes is gone after the upgrade.
    VolumeLost,
    /// Every claim is bound to a new, empty volume.
    ClaimRebound,
    /// The first pod drained comes back under another name.
    PodRenamed,
    /// Per-pod DNS records keep the pods' old addresses.
    DnsStale,
}

impl UpgradeFault {
    /// Every upgrade fault.
    pub const ALL: [UpgradeFault; 4] =
        [UpgradeFault::VolumeLost, UpgradeFault::ClaimRebound, UpgradeFault::PodRenamed, UpgradeFault::DnsStale];

    /// The name on the command line.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            UpgradeFault::VolumeLost => "upgrade-volume-lost",
            UpgradeFault::ClaimRebound => "upgrade-claim-rebound",
            UpgradeFault::PodRenamed => "upgrade-pod-renamed",
            UpgradeFault::DnsStale => "upgrade-dns-stale",
        }
    }

    /// What it does.
    #[must_use]
    pub fn description(self) -> &'static str {
        match self {
            UpgradeFault::VolumeLost => "the data on the pods' volumes is gone after the upgrade",
            UpgradeFault::ClaimRebound => "every claim is bound to a new, empty volume",
            UpgradeFault::PodRenamed => "the first pod drained comes back under another name",
            UpgradeFault::DnsStale => "per-pod DNS records keep the pods' old addresses",
        }
    }

    /// The upgrade claims it must make `upgrade verify` fail.
    #[must_use]
    pub fn breaks(self) -> &'static [&'static str] {
        match self {
            UpgradeFault::VolumeLost => &["upgrade-data"],
            // The data lived on the old volume, so it is gone too.
            UpgradeFault::ClaimRebound => &["upgrade-storage", "upgrade-data"],
            UpgradeFault::PodRenamed => &["upgrade-identity"],
            UpgradeFault::DnsStale => &["upgrade-dns"],
        }
    }
}

impl FromStr for UpgradeFault {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        UpgradeFault::ALL.into_iter().find(|f| f.name() == s).ok_or_else(|| {
            let known: Vec<&str> = UpgradeFault::ALL.iter().map(|f| f.name()).collect();
            format!("unknown upgrade fault `{s}` (known: {})", known.join(", "))
        })
    }
}
