package main

import "strings"

const (
	detourHeader    = "x-detour"
	routeHeader     = "x-detour-route"
	authorityHeader = ":authority"
)

// topology: service -> its known versions (baseline included).
type topology map[string]map[string]bool

// decision is what one request_headers message is answered with.
type decision struct {
	route       string // value for x-detour-route; "" = baseline serves
	removeRoute bool   // an incoming x-detour-route must go
}

// changes reports whether the answer needs a header mutation (and with it clear_route_cache).
func (d decision) changes() bool { return d.route != "" || d.removeRoute }

// decide is detour's outbound rule: parse x-detour, resolve the destination service from
// :authority, and route to the named version when the topology has it (named beats wildcard;
// a miss falls back to the baseline).
func decide(authority string, detourValues []string, routePresent bool, topo topology) decision {
	d := decision{removeRoute: routePresent}
	if len(detourValues) == 0 {
		return d
	}
	set := parseOverrides(strings.Join(detourValues, ","))
	if set.empty() {
		return d
	}
	service := serviceFromAuthority(authority)
	versions, ok := topo[service]
	if !ok {
		return d
	}
	if version, _ := set.versionFor(service); version != "" && versions[version] {
		d.route = version
		d.removeRoute = false // overwritten instead
	}
	return d
}

// serviceFromAuthority: host of host:port or [v6]:port, lower-cased, trailing dot dropped.
func serviceFromAuthority(authority string) string {
	host := authority
	if strings.HasPrefix(host, "[") {
		if end := strings.IndexByte(host, ']'); end >= 0 {
			host = host[:end+1]
		}
	} else if colon := strings.LastIndexByte(host, ':'); colon >= 0 {
		host = host[:colon]
	}
	host = strings.TrimSuffix(host, ".")
	return strings.ToLower(host)
}
