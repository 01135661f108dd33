//! sts-conformance: proves, claim by claim and with evidence from the cluster's own history,
//! that StatefulSets behave as Kubernetes documents.
//!
//! The parts, in the order data flows through them:
//! [`scenario`] (the file format) → [`manifest`] (typed Kubernetes objects) → [`plan`] (one
//! run's concrete objects) → [`runner`] driving a [`cluster::Cluster`] ([`sim`] or live) →
//! [`timeline`] (what was observed) → [`checks`] (verdicts) → [`report`].

pub mod analyze;
pub mod capability;
pub mod checks;
pub mod claims;
pub mod cli;
pub mod cluster;
pub mod console;
pub mod cron;
pub mod html;
pub mod input;
pub mod interrupt;
pub mod junit;
pub mod limits;
pub mod live;
pub mod manifest;
pub mod outputs;
pub mod plan;
pub mod progress;
pub mod record;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod selftest;
pub mod sim;
pub mod snapshot;
pub mod timeline;
pub mod transcript;
pub mod upgrade;
