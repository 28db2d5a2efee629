//! detour's outbound rule, as in bench/peers/go-extproc/decision.go and override.go: parse
//! x-detour (later duplicates win, a named entry beats the wildcard, invalid entries dropped, over
//! 32 entries or 1024 bytes ignored whole), resolve the destination service from :authority, and
//! route to the named version when the topology has it.
use std::collections::{HashMap, HashSet};

const MAX_ENTRIES: usize = 32;
const MAX_VALUE_BYTES: usize = 1024;

pub type Topology = HashMap<String, HashSet<String>>;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Decision {
    /// Value for x-detour-route; None = the baseline serves.
    pub route: Option<String>,
    /// An incoming x-detour-route must be removed.
    pub remove_route: bool,
}

pub fn valid_service(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

pub fn valid_version(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter().enumerate().all(|(i, c)| c.is_ascii_alphanumeric() || (i > 0 && matches!(c, b'.' | b'_' | b'-')))
}

/// The version the override names for `service` (named beats wildcard), if any.
fn version_for(value: &str, service: &str) -> Option<String> {
    if value.is_empty() || value.len() > MAX_VALUE_BYTES {
        return None;
    }
    let mut named: Option<&str> = None;
    let mut wildcard: Option<&str> = None;
    let mut count = 0;
    for element in value.split(',') {
        let element = element.trim_matches(|c| c == ' ' || c == '\t');
        if element.is_empty() {
            continue;
        }
        count += 1;
        if count > MAX_ENTRIES {
            return None;
        }
        let Some((svc, ver)) = element.split_once('=') else { continue };
        let svc = svc.trim_matches(|c| c == ' ' || c == '\t');
        let ver = ver.trim_matches(|c| c == ' ' || c == '\t');
        if !valid_version(ver) {
            continue;
        }
        if svc == "*" {
            wildcard = Some(ver);
        } else if svc.eq_ignore_ascii_case(service) && valid_service(service) {
            named = Some(ver);
        }
    }
    named.or(wildcard).map(str::to_owned)
}

/// host of host:port or [v6]:port, lower-cased, trailing dot dropped.
pub fn service_from_authority(authority: &str) -> String {
    let host = if authority.starts_with('[') {
        match authority.find(']') {
            Some(end) => &authority[..=end],
            None => authority,
        }
    } else {
        match authority.rfind(':') {
            Some(colon) => &authority[..colon],
            None => authority,
        }
    };
    host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase()
}

pub fn decide(authority: &str, detour: &[String], route_present: bool, topology: &Topology) -> Decision {
    let mut decision = Decision { route: None, remove_route: route_present };
    if detour.is_empty() {
        return decision;
    }
    let service = service_from_authority(authority);
    let Some(versions) = topology.get(&service) else { return decision };
    let joined = detour.join(",");
    if let Some(version) = version_for(&joined, &service) {
        if versions.contains(&version) {
            decision.route = Some(version);
            decision.remove_route = false;
        }
    }
    decision
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule() {
        let mut topology = Topology::new();
        topology.insert("pricing".into(), ["v1", "v2"].iter().map(|s| s.to_string()).collect());
        topology.insert("cart".into(), ["v1", "pr-7"].iter().map(|s| s.to_string()).collect());
        let d = |a: &str, h: &[&str], p: bool| decide(a, &h.iter().map(|s| s.to_string()).collect::<Vec<_>>(), p, &topology);
        assert_eq!(d("pricing:8080", &[], false), Decision::default());
        assert_eq!(d("pricing:8080", &["pricing=v2"], false).route.as_deref(), Some("v2"));
        assert_eq!(d("cart", &["*=v1, cart=pr-7"], false).route.as_deref(), Some("pr-7"));
        assert_eq!(d("pricing", &["*=pr-7"], false), Decision::default());
        assert_eq!(d("pricing", &["pricing=v9"], true), Decision { route: None, remove_route: true });
        assert_eq!(d("pricing", &["pricing=v1", "pricing=v2"], false).route.as_deref(), Some("v2"));
        assert_eq!(d("PRICING.", &["=x, PRICING=v2, bad"], false).route.as_deref(), Some("v2"));
        assert_eq!(d("pricing", &[&"a=v1,".repeat(33)], false), Decision::default());
    }
}
