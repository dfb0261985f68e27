package forwardauth

import (
	"fmt"
	"slices"
	"strings"
)

// Access says who may reach the requests a Rule matches.
type Access int

const (
	// Authenticated lets signed-in users through and sends anonymous
	// visitors to sign in. The zero Access, and the default for requests
	// no rule matches.
	Authenticated Access = iota
	// Anonymous lets everyone through. A signed-in user's identity is still
	// sent to the upstream.
	Anonymous
	// Deny refuses everyone (403), signed in or not.
	Deny
)

func (a Access) String() string {
	switch a {
	case Authenticated:
		return "authenticated"
	case Anonymous:
		return "anonymous"
	case Deny:
		return "deny"
	}
	return fmt.Sprintf("Access(%d)", int(a))
}

// Rule is one line of the policy. A request matches when its host matches
// Host and its canonical path lies under Path.
type Rule struct {
	// Host is a host name ("app.example.com"), a wildcard for its
	// subdomains ("*.example.com", which does not match example.com itself),
	// or empty for every host. Case-insensitive; a port is ignored.
	Host string
	// Path is a path prefix matched on whole segments: "/admin" matches
	// /admin and /admin/users, never /administrator. Empty or "/" matches
	// every path. Requests are matched after their path is made canonical
	// (see Options.Rules).
	Path string
	// Access is who may pass. Default Authenticated.
	Access Access
	// Groups, when set, also requires the user to belong to at least one of
	// them (a user in none gets 403). Only with Access Authenticated.
	Groups []string
}

func (r Rule) String() string {
	s := r.Host + r.Path + "=" + r.Access.String()
	if len(r.Groups) > 0 {
		s += ":" + strings.Join(r.Groups, ",")
	}
	return s
}

// policy is a validated list of rules with their canonical forms.
type policy struct {
	rules []Rule
	def   Rule
}

func newPolicy(rules []Rule, def Access) (*policy, error) {
	p := &policy{def: Rule{Access: def}}
	if def < Authenticated || def > Deny {
		return nil, fmt.Errorf("forwardauth: default access %v: unknown", def)
	}
	for i, r := range rules {
		if r.Access < Authenticated || r.Access > Deny {
			return nil, fmt.Errorf("forwardauth: rule %d: unknown access %v", i+1, r.Access)
		}
		if len(r.Groups) > 0 && r.Access != Authenticated {
			return nil, fmt.Errorf("forwardauth: rule %d (%v): groups need access authenticated", i+1, r)
		}
		h := strings.ToLower(r.Host)
		if h != "" {
			name := strings.TrimPrefix(h, "*.")
			if c, ok := canonicalHost(name); !ok || c != name || strings.Contains(name, "*") {
				return nil, fmt.Errorf("forwardauth: rule %d: host %q: want a host name, *.domain or empty", i+1, r.Host)
			}
		}
		path := r.Path
		if path == "" {
			path = "/"
		}
		c, err := canonicalPath(path)
		if err != nil || c != strings.TrimSuffix(path, "/") && c != path {
			return nil, fmt.Errorf("forwardauth: rule %d: path %q: want a canonical path such as /admin", i+1, r.Path)
		}
		p.rules = append(p.rules, Rule{Host: h, Path: c, Access: r.Access, Groups: slices.Clone(r.Groups)})
	}
	return p, nil
}

// match returns the first rule that matches host and path, or the default.
// With fold, paths are compared case-insensitively, rules' included.
func (p *policy) match(host, path string, fold bool) Rule {
	if fold {
		path = strings.ToLower(path)
	}
	for _, r := range p.rules {
		rp := r.Path
		if fold {
			rp = strings.ToLower(rp)
		}
		if hostMatches(r.Host, host) && pathUnder(path, rp) {
			return r
		}
	}
	return p.def
}

// hostMatches reports whether host (canonical) matches pattern: "" matches
// every host, "*.example.com" its subdomains, anything else itself.
func hostMatches(pattern, host string) bool {
	if pattern == "" {
		return true
	}
	if suffix, ok := strings.CutPrefix(pattern, "*"); ok {
		return strings.HasSuffix(host, suffix) && len(host) > len(suffix)
	}
	return host == pattern
}

// pathUnder reports whether path lies under prefix, on segment boundaries.
func pathUnder(path, prefix string) bool {
	if prefix == "/" {
		return true
	}
	return path == prefix || strings.HasPrefix(path, prefix) && path[len(prefix)] == '/'
}
