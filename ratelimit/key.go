package ratelimit

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// KeyFunc returns the key a request is limited by: a client address, a
// session, a user. It returns false to leave the request unlimited (for
// example an anonymous request under a per-user limit). Keys may be of any
// length and content; the Limiter hashes them. A KeyFunc must be safe for
// concurrent use.
type KeyFunc func(r *http.Request) (key string, ok bool)

// ByAddress keys requests by the client's IP address as the server sees it
// (http.Request.RemoteAddr): IPv4 addresses one by one, IPv6 addresses by
// their /64 prefix, the block a single host or home network is normally
// given, so a client cannot escape its limit by rotating addresses inside
// it. IPv4-mapped IPv6 addresses count as IPv4. A RemoteAddr that is not an
// IP address (a Unix socket) is used as it is, so all such requests share
// one limit.
//
// Behind a reverse proxy or load balancer RemoteAddr is the proxy, and every
// client would share its limit: use TrustedProxies.ByAddress there.
// ByAddress never reads X-Forwarded-For, which any client can send.
func ByAddress(r *http.Request) (string, bool) {
	a, ok := remoteAddr(r)
	if !ok {
		return r.RemoteAddr, true
	}
	return addrKey(a), true
}

// ByKey adapts a function returning a session or user key to a KeyFunc
// that leaves requests with an empty key unlimited: an empty key is almost
// always "no session" or "no user", which must not share one limit.
//
//	byUser := ratelimit.ByKey(func(r *http.Request) (string, bool) {
//		return r.PostFormValue("username"), true
//	})
func ByKey(f func(r *http.Request) (string, bool)) KeyFunc {
	if f == nil {
		panic("ratelimit: ByKey with a nil function")
	}
	return func(r *http.Request) (string, bool) {
		k, ok := f(r)
		if !ok || k == "" {
			return "", false
		}
		return k, true
	}
}

// TrustedProxies lists the reverse proxies and load balancers allowed to
// report a client's address in X-Forwarded-For. A nil TrustedProxies trusts
// nobody and behaves like ByAddress. It is a plain slice, safe for
// concurrent use as long as nobody modifies it.
type TrustedProxies []netip.Prefix

// ParseTrustedProxies parses CIDR prefixes ("10.0.0.0/8", "fd00::/8") and
// single addresses ("192.0.2.10", "::1") into TrustedProxies.
func ParseTrustedProxies(cidrs ...string) (TrustedProxies, error) {
	p := make(TrustedProxies, 0, len(cidrs))
	for _, s := range cidrs {
		s = strings.TrimSpace(s)
		if strings.Contains(s, "/") {
			pfx, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("ratelimit: trusted proxy %q: %w", s, err)
			}
			if pfx.Addr().Is4In6() && pfx.Bits() >= 96 {
				pfx = netip.PrefixFrom(pfx.Addr().Unmap(), pfx.Bits()-96)
			}
			p = append(p, pfx.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("ratelimit: trusted proxy %q: %w", s, err)
		}
		a = a.Unmap().WithZone("")
		p = append(p, netip.PrefixFrom(a, a.BitLen()))
	}
	return p, nil
}

// MustParseTrustedProxies is ParseTrustedProxies for constant arguments: it
// panics on an error.
func MustParseTrustedProxies(cidrs ...string) TrustedProxies {
	p, err := ParseTrustedProxies(cidrs...)
	if err != nil {
		panic(err)
	}
	return p
}

// ByAddress is the package's ByAddress for an app behind the proxies in p.
// It takes the client's address from X-Forwarded-For only when the request
// comes straight from a trusted proxy, and then takes the rightmost address
// in the header that is not itself a trusted proxy: the entries to its left
// were written by the client and prove nothing. IPv6 addresses are grouped
// by /64, as in ByAddress.
//
// Only X-Forwarded-For is read, not Forwarded (RFC 7239). List every proxy
// hop in p and nothing else: a client inside a trusted prefix can choose
// its own address.
func (p TrustedProxies) ByAddress(r *http.Request) (string, bool) {
	a, ok := p.ClientAddr(r)
	if !ok {
		return r.RemoteAddr, true
	}
	return addrKey(a), true
}

// ClientAddr returns the client's IP address as ByAddress finds it, and
// false when RemoteAddr is not an IP address.
func (p TrustedProxies) ClientAddr(r *http.Request) (netip.Addr, bool) {
	addr, ok := remoteAddr(r)
	if !ok || !p.trusts(addr) {
		return addr, ok
	}
	vals := r.Header["X-Forwarded-For"]
	for i := len(vals) - 1; i >= 0; i-- {
		v := vals[i]
		for v != "" {
			field := v
			if j := strings.LastIndexByte(v, ','); j >= 0 {
				field, v = v[j+1:], v[:j]
			} else {
				v = ""
			}
			field = strings.TrimSpace(field)
			if field == "" {
				continue
			}
			a, ok := parseAddr(field)
			if !ok {
				// Not an address: stop at the last hop that was verified.
				return addr, true
			}
			if !p.trusts(a) {
				return a, true
			}
			addr = a
		}
	}
	// Every hop is a trusted proxy: the leftmost is the client.
	return addr, true
}

func (p TrustedProxies) trusts(a netip.Addr) bool {
	for _, pfx := range p {
		if pfx.Contains(a) {
			return true
		}
	}
	return false
}

// remoteAddr parses r.RemoteAddr ("host:port", or a bare address).
func remoteAddr(r *http.Request) (netip.Addr, bool) {
	return parseAddr(r.RemoteAddr)
}

// parseAddr parses "1.2.3.4", "1.2.3.4:80", "::1", "[::1]:80", dropping
// the port and any zone and unmapping IPv4-mapped IPv6.
func parseAddr(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	return a.Unmap().WithZone(""), true
}

// addrKey is the key of an address: IPv4 as it is, IPv6 as its /64.
func addrKey(a netip.Addr) string {
	if a.Is4() {
		return a.String()
	}
	var buf [48]byte
	b := netip.PrefixFrom(a, 64).Masked().Addr().AppendTo(buf[:0])
	return string(append(b, "/64"...))
}
