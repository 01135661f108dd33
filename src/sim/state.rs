//! The simulated cluster's whole state on disk (`--sim-state FILE`), so that `upgrade prepare`,
//! `sim upgrade` and `upgrade verify` can run as separate processes, as they would around a
//! real upgrade. JSON; one simulated cluster per namespace.

use std::{collections::BTreeMap, path::Path};

use serde::{Deserialize, Serialize};

use super::SimCluster;

/// Why the simulated cluster's state could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SimStateError {
    /// The file could not be read or written.
    #[error("cannot {doing} {}: {source}", .path.display())]
    Io {
        /// `read` or `write`.
        doing: &'static str,
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file holds something else.
    #[error("{}: not a simulated cluster's state: {why}", .path.display())]
    NotState {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        why: String,
    },
}

/// The value of [`SimWorld::format`].
pub const FORMAT: &str = "sts-conformance-sim-state";

/// Every namespace of the simulated cluster, and its server version.
#[derive(Debug, Serialize, Deserialize)]
pub struct SimWorld {
    /// Always `sts-conformance-sim-state`.
    pub format: String,
    /// The simulated API server's version (a `sim upgrade` raises it).
    pub server_version: String,
    /// Namespace → its objects and controllers.
    pub clusters: BTreeMap<String, SimCluster>,
}

impl Default for SimWorld {
    fn default() -> Self {
        Self { format: FORMAT.into(), server_version: "v1.33.0-sim".into(), clusters: BTreeMap::new() }
    }
}

impl SimWorld {
    /// Reads the state at `path`; a missing file is an empty cluster.
    ///
    /// # Errors
    /// An unreadable file, or one that is not a simulated cluster's state.
    pub fn load(path: &Path) -> Result<Self, SimStateError> {
        if !path.exists() {
            return Ok(Self::default());
        }
        let text =
            std::fs::read_to_string(path).map_err(|source| SimStateError::Io { doing: "read", path: path.into(), source })?;
        let world: SimWorld =
            serde_json::from_str(&text).map_err(|e| SimStateError::NotState { path: path.into(), why: e.to_string() })?;
        if world.format != FORMAT {
            let why = format!("format {:?}, expected {FORMAT:?}", world.format);
            return Err(SimStateError::NotState { path: path.into(), why });
        }
        Ok(world)
    }

    /// Writes the state to `path`.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn save(&self, path: &Path) -> Result<(), SimStateError> {
        let io = |source| SimStateError::Io { doing: "write", path: path.into(), source };
        let text = serde_json::to_string(self).map_err(|e| io(std::io::Error::other(e)))?;
        std::fs::write(path, text).map_err(io)
    }

    /// A node-by-node upgrade of every namespace; the server version goes up one minor.
    pub fn upgrade(&mut self, faults: &[super::UpgradeFault]) {
        for cluster in self.clusters.values_mut() {
            cluster.upgrade_nodes(faults);
        }
        self.server_version = next_minor(&self.server_version);
    }
}

fn next_minor(version: &str) -> String {
    let mut parts = version.trim_start_matches('v').splitn(3, '.');
    let major = parts.next().unwrap_or("1");
    let minor: u32 = parts.next().and_then(|m| m.parse().ok()).unwrap_or(33);
    format!("v{major}.{}.0-sim", minor + 1)
}

#[cfg(test)]
mod tests {
    #[test]
    fn versions_go_up_one_minor() {
        assert_eq!(super::next_minor("v1.33.0-sim"), "v1.34.0-sim");
    }
}
