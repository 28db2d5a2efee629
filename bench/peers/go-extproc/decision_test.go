package main

import "testing"

func TestDecide(t *testing.T) {
	topo := topology{"pricing": {"v1": true, "v2": true}, "cart": {"v1": true, "pr-7": true}}
	cases := []struct {
		name      string
		authority string
		detour    []string
		present   bool
		want      decision
	}{
		{"no override", "pricing:8080", nil, false, decision{}},
		{"named", "pricing:8080", []string{"pricing=v2"}, false, decision{route: "v2"}},
		{"named beats wildcard", "cart", []string{"*=v1, cart=pr-7"}, false, decision{route: "pr-7"}},
		{"wildcard", "cart", []string{"*=pr-7"}, false, decision{route: "pr-7"}},
		{"wildcard miss stays baseline", "pricing", []string{"*=pr-7"}, false, decision{}},
		{"unknown version falls back", "pricing", []string{"pricing=v9"}, true, decision{removeRoute: true}},
		{"other service", "cart", []string{"pricing=v2"}, false, decision{}},
		{"repeated lines, later wins", "pricing", []string{"pricing=v1", "pricing=v2"}, false, decision{route: "v2"}},
		{"upper-case service, bad entries dropped", "PRICING.", []string{"=x, PRICING=v2, bad"}, false, decision{route: "v2"}},
		{"incoming route header removed", "pricing", nil, true, decision{removeRoute: true}},
	}
	for _, c := range cases {
		if got := decide(c.authority, c.detour, c.present, topo); got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestLimits(t *testing.T) {
	many := ""
	for i := 0; i < 33; i++ {
		many += "a=v1,"
	}
	if !parseOverrides(many).empty() {
		t.Errorf("33 entries must be ignored whole")
	}
}
