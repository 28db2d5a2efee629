package main

import "strings"

// Limits of one carrier value (docs/spec.md §3, same defaults as @detour/core): over a limit the
// whole value is ignored, never truncated.
const (
	maxEntries    = 32
	maxValueBytes = 1024
)

// overrideSet is the parsed x-detour value: named entries plus an optional wildcard (`*=key`).
type overrideSet struct {
	named    map[string]string
	wildcard string
}

func (s overrideSet) empty() bool { return len(s.named) == 0 && s.wildcard == "" }

// versionFor returns the version the set names for service: a named entry beats the wildcard.
// named reports whether a named entry (not the wildcard) said so.
func (s overrideSet) versionFor(service string) (version string, named bool) {
	if v, ok := s.named[service]; ok {
		return v, true
	}
	return s.wildcard, false
}

// parseOverrides parses `svc=ver, svc=ver, *=key` (repeated header lines already joined with
// ','). Invalid entries are dropped one by one; later duplicates win.
func parseOverrides(value string) overrideSet {
	var set overrideSet
	if value == "" || len(value) > maxValueBytes {
		return set
	}
	count := 0
	for _, element := range strings.Split(value, ",") {
		element = strings.Trim(element, " \t")
		if element == "" {
			continue
		}
		count++
		if count > maxEntries {
			return overrideSet{}
		}
		eq := strings.IndexByte(element, '=')
		if eq < 0 {
			continue
		}
		service := strings.ToLower(strings.Trim(element[:eq], " \t"))
		version := strings.Trim(element[eq+1:], " \t")
		if !validVersion(version) {
			continue
		}
		if service == "*" {
			set.wildcard = version
			continue
		}
		if !validService(service) {
			continue
		}
		if set.named == nil {
			set.named = make(map[string]string, 4)
		}
		set.named[service] = version
	}
	return set
}

// validService: a DNS label, [a-z0-9]([a-z0-9-]{0,61}[a-z0-9])? (already lower-cased).
func validService(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validVersion: [A-Za-z0-9][A-Za-z0-9._-]{0,62}, kept as written.
func validVersion(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '.' && c != '_' && c != '-') {
			return false
		}
	}
	return true
}
