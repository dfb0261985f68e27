package main

import "testing"

func TestHideMembers(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		hid            bool
	}{
		{"nothing secret", `{"b":1, "a":[2]}`, `{"b":1, "a":[2]}`, false},
		{"not JSON", "\x01raw", "\x01raw", false},
		{"string", `"a token"`, `"a token"`, false},
		{"member", `{"name":"x","Password":"p"}`, `{"Password":"(hidden)","name":"x"}`, true},
		{"nested in an array", `[{"csrf_token":{"v":1}},3.50]`, `[{"csrf_token":"(hidden)"},3.50]`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, hid := hideMembers([]byte(tc.in))
			if string(got) != tc.want || hid != tc.hid {
				t.Errorf("hideMembers(%s) = %s, %v; want %s, %v", tc.in, got, hid, tc.want, tc.hid)
			}
		})
	}
	for name, want := range map[string]bool{"csrf": true, "API_KEY": true, "oauth_state": true, "cart": false, "theme": false} {
		if looksSecret(name) != want {
			t.Errorf("looksSecret(%q) = %v", name, !want)
		}
	}
}
