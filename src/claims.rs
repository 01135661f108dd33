//! The catalogue of claims the seed documents make, with their stable ids, and of the
//! behaviours upstream's StatefulSet e2e specs check beyond them (`e2e-*`).
//!
//! The seed claims are copied from `seed-manifests/README.md` (the table of every claim). Scenarios cite these ids;
//! `list --claims` reports which scenarios cover each; a test fails when a required claim has
//! no scenario.

/// One documented claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    /// Stable id, `<seed>-<slug>`.
    pub id: &'static str,
    /// What the document claims, in a line.
    pub text: &'static str,
    /// Whether the harness must cover it now (a claim added to the table before its scenario is
    /// built is `false` until then; none is now).
    pub required: bool,
}

const fn c(id: &'static str, text: &'static str) -> Claim {
    Claim { id, text, required: true }
}

/// Every claim of the seed documents, in table order.
pub const CLAIMS: &[Claim] = &[
    c("000-headless", "the headless Service has no cluster IP (clusterIP: None)"),
    c("000-names", "pods are named <sts>-<ordinal> from 0 and created in that order"),
    c("000-scale-down", "re-applying with fewer replicas removes only the highest ordinal; the others keep their identity"),
    c("000-pod-http", "another pod reaches a StatefulSet pod by its pod IP over HTTP"),
    c("000-static-bind", "with a static PV the first claim binds to it"),
    c("000-pvc-name", "claims are named <volumeClaimTemplate>-<pod>"),
    c("000-static-shortage", "with one static PV, scaling to 2 leaves the second pod and claim Pending with a warning"),
    c("001-headless", "the headless Service shows CLUSTER-IP None"),
    c("001-ordered-create", "web-0 is Running (and Ready) before web-1 is created"),
    c("001-hostname", "hostname inside each pod prints its pod name"),
    c("001-dns", "nslookup of the service returns every pod IP; <pod>.<service> returns that pod's IP"),
    c("001-pvc", "each pod gets its own claim from the template (default StorageClass)"),
    c("001-persist", "data written to web-0's volume is still served after web-0 is deleted and recreated"),
    c("001-deploy-contrast", "Deployment pods get hash names, its Service a cluster IP, no per-pod identity or storage"),
    c("002-ordered-create", "pods are created one at a time: web-0, web-1, web-2"),
    c("002-pvc", "claims www-web-0..2 are Bound, class standard, 1Gi"),
    c("002-dns", "web-N.nginx.<ns>.svc resolves each pod to its own IP"),
    c("002-scale-up", "scaling to 5 creates web-3 and, only once it is Running, web-4"),
    c("002-scale-down", "scaling to 1 terminates web-4, web-3, web-2, web-1 in turn, each gone before the next"),
    c("002-pvc-retained", "after scaling down all five claims remain Bound"),
    c("002-pvc-after-delete", "after deleting the StatefulSet the claims remain"),
    c("002-reattach", "re-creating the StatefulSet reattaches the existing claims by name"),
    c("002-reverse-rollout", "an image change replaces web-2, web-1, web-0 in turn, each after the previous is Running"),
    c("003-pod-dns-http", "curl <pod>.<headless service>:<port> is answered by that pod alone"),
    c("003-retained", "deleting or scaling down a StatefulSet does not delete its volumes"),
    c("003-headless-required", "the pods' network identity comes from the headless Service named in serviceName"),
    c("004-identity", "names <sts>-<ordinal>; DNS <pod>.<headless>.<ns>.svc.cluster.local"),
    c("004-order", "create 0->1->2, delete 2->1->0, each waiting for the previous pod"),
    c("004-storage", "each pod gets its own claim, kept when the pod is deleted and reattached when recreated"),
    c("004-headless-dns", "the headless Service's DNS answer is every pod IP, with no load-balancing IP"),
    c("004-parallel", "podManagementPolicy Parallel creates and deletes pods at once"),
    c("004-partition", "partition 2 updates only ordinals >= 2; partition 0 then rolls the rest"),
    c("004-secret", "the mysql StatefulSet needs a Secret mysql-secret with key password"),
    c("004-daemonset", "a DaemonSet runs one pod on every schedulable node"),
    c("004-job", "a Job runs to completion within its completions and parallelism"),
    c("004-cronjob", "a CronJob creates Jobs on its schedule; concurrencyPolicy Allow/Forbid/Replace"),
    c(
        "e2e-start-ordinal",
        "with spec.ordinals.start the pods are <sts>-<start>…; setting, raising, lowering and removing it moves the set in order (upstream: StatefulSetStartOrdinal)",
    ),
    c(
        "e2e-rollback",
        "a template change rolled back reuses the earlier revision (no new one), pods return to it in reverse order, and the status's revisions and counts tell the truth (upstream: should perform rolling updates and roll backs of template modifications)",
    ),
    c(
        "e2e-pvc-delete",
        "with persistentVolumeClaimRetentionPolicy Delete, a scale-down removes the removed pods' claims and deleting the set removes the rest; the claims carry the set as owner (upstream: Non-retain StatefulSetPersistentVolumeClaimPolicy)",
    ),
    c(
        "e2e-min-ready",
        "with minReadySeconds each pod is created only once its predecessors have been Ready that long, and availableReplicas never counts a pod sooner (upstream: MinReadySeconds should be honored when enabled)",
    ),
    c(
        "e2e-failed-pod",
        "a pod of the set that fails is deleted and made again under its name, with its claims (upstream: should recreate evicted statefulset)",
    ),
    c(
        "e2e-max-unavailable",
        "with rollingUpdate.maxUnavailable N a roll-out takes out at most N pods at once, highest first; a cluster without the MaxUnavailableStatefulSet feature gate drops the field (upstream: StatefulSet MaxUnavailable)",
    ),
    c(
        "e2e-adoption",
        "an orphan pod of the set whose labels match its selector is adopted; a pod whose labels stop matching is released, and adopted again once they match (upstream: should adopt matching orphans and release non-matching pods)",
    ),
    c(
        "e2e-api-surface",
        "the scale and status subresources read and write what the StatefulSet holds, a written status is watchable, and a list or delete-collection by labels selects exactly the StatefulSets that carry them (upstream: the scale subresource, Status endpoints, list/patch/delete a collection [Conformance])",
    ),
    c(
        "e2e-on-delete",
        "with updateStrategy OnDelete a template change replaces no pod; a deleted pod, or a new one, comes on the update revision (upstream: should implement legacy replacement when the update strategy is OnDelete)",
    ),
];

/// The claim with id `id`.
#[must_use]
pub fn find(id: &str) -> Option<&'static Claim> {
    CLAIMS.iter().find(|c| c.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut ids: Vec<_> = CLAIMS.iter().map(|c| c.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), CLAIMS.len());
        assert!(CLAIMS.iter().all(|c| c.id.len() > 4 && c.id.as_bytes()[3] == b'-'));
        // Every claim of the table has a scenario now.
        let later: Vec<&str> = CLAIMS.iter().filter(|c| !c.required).map(|c| c.id).collect();
        assert!(later.is_empty(), "{later:?}");
    }
}
