//! The network as a pod sees it in the sim: CoreDNS-style records (a headless Service's pod
//! records, a Service's cluster IP) resolved through the pod's search path, and what each
//! container image serves over HTTP.

use std::collections::BTreeMap;

use super::{Fault, SimCluster, SimPod};
use crate::cluster::ProbeError;
use crate::timeline::{HttpResponse, PodObs};

impl SimCluster {
    pub(super) fn running_pod(&self, name: &str) -> Result<&SimPod, ProbeError> {
        match self.pods.get(name) {
            Some(p) if p.obs.phase == "Running" && !p.obs.terminating => Ok(p),
            Some(p) => Err(ProbeError::not_run(format!(
                "pod {name} is not running (phase {}, terminating {})",
                p.obs.phase, p.obs.terminating
            ))),
            None => Err(ProbeError::not_run(format!("pods \"{name}\" not found"))),
        }
    }

    /// CoreDNS-style records of the namespace: name → addresses.
    pub(super) fn dns_records(&self) -> BTreeMap<String, Vec<String>> {
        let suffix = format!("{}.svc.{}", self.namespace, self.cluster_domain);
        let mut records: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for service in self.services.values() {
            let selected: Vec<&PodObs> = self
                .pods
                .values()
                .map(|p| &p.obs)
                .filter(|p| !service.selector.is_empty() && service.selector.iter().all(|(k, v)| p.spec.labels.get(k) == Some(v)))
                .filter(|p| p.running_and_ready())
                .collect();
            let name = format!("{}.{suffix}", service.name);
            if service.is_headless() {
                let mut addresses: Vec<String> = selected.iter().filter_map(|p| p.ip.as_deref().map(str::to_owned)).collect();
                if self.has(Fault::ServiceRecordMissingPod) && addresses.len() > 1 {
                    addresses.pop();
                }
                records.insert(name.clone(), addresses);
                let members: Vec<(&String, &str)> = selected
                    .iter()
                    .filter(|p| p.spec.subdomain.as_deref() == Some(service.name.as_str()))
                    .filter_map(|p| Some((p.spec.hostname.as_ref()?, p.ip.as_deref()?)))
                    .collect();
                for (i, (host, ip)) in members.iter().enumerate() {
                    let ip = if self.has(Fault::DnsRecordWrongIp) && members.len() > 1 {
                        members[(i + 1) % members.len()].1
                    } else {
                        ip
                    };
                    if self.has(Fault::DnsPodRecordMissing) && i + 1 == members.len() {
                        continue;
                    }
                    let ip = self.stale_dns.get(host.as_str()).map_or(ip, String::as_str);
                    records.insert(format!("{host}.{name}"), vec![ip.to_owned()]);
                }
            } else if let Some(ip) = &service.cluster_ip {
                records.insert(name, vec![ip.clone()]);
            }
        }
        records
    }

    pub(super) fn lookup(&self, name: &str) -> Result<Vec<String>, ProbeError> {
        let records = self.dns_records();
        let candidates: Vec<String> = if let Some(absolute) = name.strip_suffix('.') {
            vec![absolute.to_owned()]
        } else {
            // A pod's resolv.conf: search <ns>.svc.<domain> svc.<domain> <domain>, ndots:5.
            let search = [
                format!("{}.svc.{}", self.namespace, self.cluster_domain),
                format!("svc.{}", self.cluster_domain),
                self.cluster_domain.clone(),
            ];
            let mut c: Vec<String> = search.iter().map(|s| format!("{name}.{s}")).collect();
            c.push(name.to_owned());
            c
        };
        candidates
            .iter()
            .find_map(|c| records.get(c).filter(|a| !a.is_empty()).cloned())
            .map(|mut a| {
                a.sort();
                a
            })
            .ok_or_else(|| ProbeError::Answered(format!("NXDOMAIN: can't resolve '{name}'")))
    }

    /// What a container image serves, in the sim's stand-in for real images: nginx serves its
    /// document root on 80; go-myweb answers on 8080 with the hostname; other images serve a
    /// page naming the pod on their declared container ports.
    pub(super) fn serve(&self, pod: &SimPod, port: u16, path: &str) -> Result<HttpResponse, ProbeError> {
        for container in &pod.spec.containers {
            let image = container.image.as_deref().unwrap_or("");
            let declared: Vec<u16> =
                container.ports.iter().flatten().filter_map(|p| u16::try_from(p.container_port).ok()).collect();
            let host = pod.obs.spec.hostname.clone().unwrap_or_else(|| pod.obs.name.to_string());
            if image.contains("nginx") && port == 80 {
                let file = if path.ends_with('/') {
                    format!("/usr/share/nginx/html{path}index.html")
                } else {
                    format!("/usr/share/nginx/html{path}")
                };
                let body = self.read_file(pod, &file).unwrap_or_else(|| {
                    "<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n</head>\n<body>\n<h1>Welcome to nginx!</h1>\n</body>\n</html>\n".into()
                });
                return Ok(HttpResponse { status: 200, body });
            }
            if image.contains("go-myweb") && port == 8080 {
                return Ok(HttpResponse { status: 200, body: format!("Hello World!\n{host}\n") });
            }
            if declared.contains(&port) {
                return Ok(HttpResponse { status: 200, body: format!("served by {host}\n") });
            }
        }
        Err(ProbeError::Answered(format!(
            "connect to {}:{port} failed: Connection refused",
            pod.obs.ip.as_deref().unwrap_or("?")
        )))
    }
}
