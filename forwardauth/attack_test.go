package forwardauth_test

import (
	"net/http"
	"path"
	"testing"

	"github.com/sessionkit/session/forwardauth"
)

// TestAttackSemicolonDotDotOutOfDeniedPath: canonicalPath cuts ";params"
// off every segment before resolving dot segments, so "..;" counts as "..".
// Only Tomcat-style servers read it so. nginx (its $uri, hence its location
// routing), Go's path.Clean / ServeMux, Caddy, Express keep "..;" as an
// ordinary segment, which a following ".." removes. So
// "/closed/..;/../public/x" is decided as /public/x (anonymous) while those
// servers resolve it to /closed/public/x, under a Deny rule.
func TestAttackSemicolonDotDotOutOfDeniedPath(t *testing.T) {
	h := newHandler(t, forwardauth.Options{})
	for _, uri := range []string{
		"/closed/..;/../public/x",
		"/closed/.;/../public/x",
		"/closed/;/../public/x",
		"/admin/..;/../public/x",
	} {
		upstream := path.Clean(uri) // what nginx's $uri / a Go upstream resolves
		for _, c := range contracts {
			r := c.check("GET", "app.example.com", uri)
			r.RemoteAddr = proxyAddr
			res := do(h, r)
			if res.Code == c.allowed {
				t.Errorf("%s: anonymous %q allowed (%d); nginx and Go upstreams resolve it to %q, which is denied / needs admins",
					c.name, uri, res.Code, upstream)
			}
		}
	}
}

// TestAttackRulePathCaseFold: Options.Rules promises "When a path matches a
// different rule compared case-insensitively (servers on case-insensitive
// file systems), both rules must allow it." Decide only lower-cases the
// request path and compares it with the rule paths as written, so a rule
// with an upper-case letter is skipped by the same path in lower case.
func TestAttackRulePathCaseFold(t *testing.T) {
	h := newHandler(t, forwardauth.Options{
		Rules:         []forwardauth.Rule{{Path: "/Private", Access: forwardauth.Deny}},
		DefaultAccess: forwardauth.Anonymous,
	})
	for _, uri := range []string{"/private/secret.txt", "/PRIVATE/secret.txt"} {
		for _, c := range contracts {
			r := c.check("GET", "app.example.com", uri)
			r.RemoteAddr = proxyAddr
			res := do(h, r)
			if res.Code == http.StatusOK {
				t.Errorf("%s: %q matches the Deny rule /Private case-insensitively but was allowed", c.name, uri)
			}
		}
	}
}
