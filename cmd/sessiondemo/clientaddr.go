package main

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/sessionkit/session/ratelimit"
)

// The client's address, behind a reverse proxy. Behind nginx or a load
// balancer every request comes from the proxy, and the rate limits, the
// devices page and the session core's client-change check would all see one
// client. With -trusted-proxies, a request that comes straight from a listed
// proxy is taken to come from the address the proxy reports: the rightmost
// address of X-Forwarded-For (or of Forwarded's for=, with -proxy-header
// forwarded) that is not itself a listed proxy, since the entries to its
// left were written by the client and prove nothing. A request from anyone
// else is taken to come from RemoteAddr, whatever headers it sends.
//
// realClient rewrites the request's RemoteAddr before anything else reads
// it, so that the session core (which records r.RemoteAddr for the devices
// page and compares it for Config.ClientChange), the rate limiters and the
// logs share this one definition.

// proxyHeaders are the headers -proxy-header may name.
var proxyHeaders = []string{"x-forwarded-for", "forwarded"}

// clientAddrs finds the client's address of a request.
type clientAddrs struct {
	trusted   ratelimit.TrustedProxies // nil: trust nobody
	forwarded bool                     // read Forwarded instead of X-Forwarded-For
}

// parseTrustedProxies parses -trusted-proxies: CIDR prefixes or addresses,
// comma-separated.
func parseTrustedProxies(list string) (ratelimit.TrustedProxies, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	return ratelimit.ParseTrustedProxies(strings.Split(list, ",")...)
}

// clientAddr returns the client's address, and false when RemoteAddr is not
// an IP address (then nothing is changed).
func (c clientAddrs) clientAddr(r *http.Request) (netip.Addr, bool) {
	if !c.forwarded {
		return c.trusted.ClientAddr(r)
	}
	addr, ok := parseHostPort(r.RemoteAddr)
	if !ok || !c.trusts(addr) {
		return addr, ok
	}
	hops := forwardedFor(r.Header.Values("Forwarded"))
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHostPort(hops[i])
		if !ok {
			// "unknown" or an obfuscated name: stop at the last hop
			// that was verified.
			return addr, true
		}
		if !c.trusts(a) {
			return a, true
		}
		addr = a
	}
	return addr, true // every hop is a trusted proxy: the leftmost is the client
}

func (c clientAddrs) trusts(a netip.Addr) bool {
	for _, p := range c.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedFor returns the for= parameters of Forwarded header values
// (RFC 7239), in order, unquoted: `for=192.0.2.60;proto=http,
// for="[2001:db8::17]:4711"` gives 192.0.2.60 and [2001:db8::17]:4711. An
// element without for= gives "", which matches no address.
func forwardedFor(values []string) []string {
	var out []string
	for _, v := range values {
		for _, elem := range splitQuoted(v, ',') {
			found := ""
			for _, pair := range splitQuoted(elem, ';') {
				name, value, _ := strings.Cut(strings.TrimSpace(pair), "=")
				if strings.EqualFold(name, "for") {
					found = strings.Trim(value, `"`)
				}
			}
			out = append(out, found)
		}
	}
	return out
}

// splitQuoted splits s at sep outside double quotes.
func splitQuoted(s string, sep byte) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '"':
			quoted = !quoted
		case s[i] == sep && !quoted:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// parseHostPort parses "1.2.3.4", "1.2.3.4:80", "::1", "[::1]" and
// "[::1]:80", dropping the port and zone and unmapping IPv4-mapped IPv6.
func parseHostPort(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// realClient sets RemoteAddr to the client's address (see above), with
// port 0, when the request comes from a trusted proxy.
func (c clientAddrs) realClient(next http.Handler) http.Handler {
	if len(c.trusted) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a, ok := c.clientAddr(r); ok {
			if s := netip.AddrPortFrom(a, 0).String(); s != r.RemoteAddr {
				r = r.WithContext(r.Context()) // a shallow copy: the caller's request is not ours to change
				r.RemoteAddr = s
			}
		}
		next.ServeHTTP(w, r)
	})
}
