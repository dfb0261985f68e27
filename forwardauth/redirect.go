package forwardauth

import (
	"fmt"
	"net/url"
	"strings"
)

// maxRedirectLen bounds a redirect target.
const maxRedirectLen = 4096

// redirects is the allow-list of hosts a visitor may be sent back to after
// signing in or out.
type redirects struct {
	hosts []string // canonical host names or "*.domain"
}

func newRedirects(hosts []string) (*redirects, error) {
	r := &redirects{}
	for _, h := range hosts {
		h = strings.ToLower(h)
		name := strings.TrimPrefix(h, "*.")
		if c, ok := canonicalHost(name); !ok || c != name || strings.ContainsAny(name, "*[]:") {
			return nil, fmt.Errorf("forwardauth: redirect host %q: want a host name or *.domain", h)
		}
		r.hosts = append(r.hosts, h)
	}
	return r, nil
}

// allowed reports whether host (a canonical host name) is on the list.
func (r *redirects) allowed(host string) bool {
	for _, p := range r.hosts {
		if hostMatches(p, host) {
			return true
		}
	}
	return false
}

// target returns rd when it is a safe place to send the visitor: a path on
// this site ("/app?x=1", not "//host" or "/\host", which browsers read as
// another host), or an https URL on an allowed host, without user info.
// Anything else, including every target with a backslash or a control
// character, returns false.
func (r *redirects) target(rd string) (string, bool) {
	if rd == "" || len(rd) > maxRedirectLen || strings.ContainsFunc(rd, func(c rune) bool { return c < 0x21 || c == 0x7f || c == '\\' }) {
		return "", false
	}
	u, err := url.Parse(rd)
	if err != nil || u.Opaque != "" || u.User != nil {
		return "", false
	}
	if rd[0] == '/' {
		if strings.HasPrefix(rd, "//") || u.Scheme != "" || u.Host != "" {
			return "", false
		}
		return u.String(), true
	}
	if u.Scheme != "https" {
		return "", false
	}
	host, ok := canonicalHost(u.Host)
	if !ok || !r.allowed(host) {
		return "", false
	}
	return u.String(), true
}
