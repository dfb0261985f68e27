package ratelimit_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/sessionkit/session/ratelimit"
)

func TestByAddress(t *testing.T) {
	tests := []struct {
		name       string
		remoteAddr string
		xff        []string
		want       string
	}{
		{"IPv4", "203.0.113.7:54321", nil, "203.0.113.7"},
		{"IPv4 without port", "203.0.113.7", nil, "203.0.113.7"},
		{"IPv6 grouped by /64", "[2001:db8:aa:bb:1:2:3:4]:443", nil, "2001:db8:aa:bb::/64"},
		{"IPv6 other host, same /64", "[2001:db8:aa:bb:ffff:ffff:ffff:ffff]:443", nil, "2001:db8:aa:bb::/64"},
		{"IPv6 zone dropped", "[fe80::1%eth0]:443", nil, "fe80::/64"},
		{"IPv4-mapped IPv6 is IPv4", "[::ffff:203.0.113.7]:443", nil, "203.0.113.7"},
		{"X-Forwarded-For ignored", "203.0.113.7:1", []string{"198.51.100.1"}, "203.0.113.7"},
		{"not an IP address", "@", nil, "@"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remoteAddr
			r.Header["X-Forwarded-For"] = tt.xff
			got, ok := ratelimit.ByAddress(r)
			if !ok || got != tt.want {
				t.Fatalf("ByAddress = %q, %v; want %q, true", got, ok, tt.want)
			}
		})
	}
}

func TestTrustedProxies(t *testing.T) {
	proxies := ratelimit.MustParseTrustedProxies("10.0.0.0/8", "192.0.2.10", "fd00::/8", "::ffff:172.16.0.0/108")
	tests := []struct {
		name       string
		remoteAddr string
		xff        []string
		want       string
	}{
		{"direct client, header ignored", "203.0.113.7:1", []string{"198.51.100.1"}, "203.0.113.7"},
		{"through one proxy", "10.1.2.3:1", []string{"198.51.100.1"}, "198.51.100.1"},
		{"single-address proxy", "192.0.2.10:1", []string{"198.51.100.1"}, "198.51.100.1"},
		{"mapped prefix matches IPv4", "172.16.5.5:1", []string{"198.51.100.1"}, "198.51.100.1"},
		{"through a chain", "10.1.2.3:1", []string{"198.51.100.1, 10.9.9.9, 10.8.8.8"}, "198.51.100.1"},
		{"spoofed entries left of the client ignored", "10.1.2.3:1", []string{"1.1.1.1, 2.2.2.2, 198.51.100.1"}, "198.51.100.1"},
		{"several header lines", "10.1.2.3:1", []string{"1.1.1.1", "198.51.100.1, 10.8.8.8"}, "198.51.100.1"},
		{"IPv6 client grouped", "[fd00::1]:1", []string{"2001:db8:aa:bb::1234"}, "2001:db8:aa:bb::/64"},
		{"entry with port", "10.1.2.3:1", []string{"198.51.100.1:5555"}, "198.51.100.1"},
		{"bracketed IPv6 with port", "10.1.2.3:1", []string{"[2001:db8::1]:5555"}, "2001:db8::/64"},
		{"garbage: last verified hop", "10.1.2.3:1", []string{"unknown, 10.5.5.5"}, "10.5.5.5"},
		{"empty entries skipped", "10.1.2.3:1", []string{" , 198.51.100.1 ,, "}, "198.51.100.1"},
		{"no header: the proxy", "10.1.2.3:1", nil, "10.1.2.3"},
		{"all trusted: the leftmost", "10.1.2.3:1", []string{"10.7.7.7, 10.8.8.8"}, "10.7.7.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remoteAddr
			r.Header["X-Forwarded-For"] = tt.xff
			got, ok := proxies.ByAddress(r)
			if !ok || got != tt.want {
				t.Fatalf("ByAddress = %q, %v; want %q, true", got, ok, tt.want)
			}
		})
	}

	var none ratelimit.TrustedProxies
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.1.2.3:1"
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	if got, _ := none.ByAddress(r); got != "10.1.2.3" {
		t.Errorf("nil TrustedProxies: %q, want the peer", got)
	}
	if a, ok := proxies.ClientAddr(r); !ok || a != netip.MustParseAddr("198.51.100.1") {
		t.Errorf("ClientAddr = %v, %v", a, ok)
	}
}

func TestParseTrustedProxies(t *testing.T) {
	tests := []struct {
		name  string
		in    []string
		want  []string
		error bool
	}{
		{"prefixes masked", []string{"10.1.2.3/8", " fd00::1/8 "}, []string{"10.0.0.0/8", "fd00::/8"}, false},
		{"single addresses", []string{"192.0.2.10", "::1", "::ffff:192.0.2.11"}, []string{"192.0.2.10/32", "::1/128", "192.0.2.11/32"}, false},
		{"bad prefix", []string{"10.0.0.0/33"}, nil, true},
		{"bad address", []string{"proxy.internal"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ratelimit.ParseTrustedProxies(tt.in...)
			if tt.error {
				if err == nil {
					t.Fatalf("got %v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i].String() != tt.want[i] {
					t.Errorf("[%d] = %v, want %v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestByKey(t *testing.T) {
	byUser := ratelimit.ByKey(func(r *http.Request) (string, bool) {
		u := r.Header.Get("X-User")
		return u, u != "nobody"
	})
	tests := []struct {
		name   string
		user   string
		want   string
		wantOK bool
	}{
		{"user", "alice", "alice", true},
		{"empty key is no key", "", "", false},
		{"function says no", "nobody", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("X-User", tt.user)
			got, ok := byUser(r)
			if got != tt.want || ok != tt.wantOK {
				t.Fatalf("= %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
