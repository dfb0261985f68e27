package forwardauth

import (
	"fmt"
	"net/http"
	"net/textproto"
	"strings"
)

// Headers names the request headers that carry the identity of a signed-in
// user to the upstream app. sessiond sends them in its answer to the proxy,
// which copies them onto the request it forwards. An empty name leaves that
// piece of identity out.
//
// The zero Headers is the Authelia preset. Every answer that allows a
// request carries every configured header, empty when there is no value (an
// anonymous visitor on a public path, a user without e-mail), so a proxy set
// up to copy them overwrites or removes whatever the client sent under
// those names: a client can never speak for a user.
type Headers struct {
	User    string // the user name
	Groups  string // the user's groups, comma-separated
	Email   string // the user's e-mail address
	Session string // the session's store ID (SHA-256 of the token, hex): stable per login, useless to open the session
}

// AutheliaHeaders are the names Authelia sends and apps behind it read.
var AutheliaHeaders = Headers{User: "Remote-User", Groups: "Remote-Groups", Email: "Remote-Email", Session: "Remote-Session"}

// OAuth2ProxyHeaders are the names oauth2-proxy sends with
// --set-xauthrequest.
var OAuth2ProxyHeaders = Headers{
	User: "X-Auth-Request-User", Groups: "X-Auth-Request-Groups",
	Email: "X-Auth-Request-Email", Session: "X-Auth-Request-Session",
}

// HeadersPreset returns the preset called name: "authelia" or
// "oauth2-proxy".
func HeadersPreset(name string) (Headers, error) {
	switch strings.ToLower(name) {
	case "authelia":
		return AutheliaHeaders, nil
	case "oauth2-proxy", "oauth2proxy":
		return OAuth2ProxyHeaders, nil
	}
	return Headers{}, fmt.Errorf("forwardauth: unknown header preset %q: want authelia or oauth2-proxy", name)
}

// names returns the configured header names, canonical, skipping empty ones.
func (h Headers) names() []string {
	var out []string
	for _, n := range []string{h.User, h.Groups, h.Email, h.Session} {
		if n != "" {
			out = append(out, textproto.CanonicalMIMEHeaderKey(n))
		}
	}
	return out
}

func (h Headers) validate() error {
	seen := map[string]bool{}
	for _, n := range h.names() {
		if !validHeaderName(n) {
			return fmt.Errorf("forwardauth: header name %q: not a valid header name", n)
		}
		if seen[n] {
			return fmt.Errorf("forwardauth: header name %q used twice", n)
		}
		seen[n] = true
	}
	if len(seen) == 0 {
		return fmt.Errorf("forwardauth: no identity header configured")
	}
	return nil
}

func validHeaderName(n string) bool {
	if n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// set writes the identity of d (empty for an anonymous visitor) into h,
// every configured header present.
func (h Headers) set(dst http.Header, d Decision) {
	var user, groups, email string
	if d.User != nil {
		user, groups, email = d.User.Name, strings.Join(d.User.Groups, ","), d.User.Email
	}
	put := func(name, value string) {
		if name != "" {
			dst[textproto.CanonicalMIMEHeaderKey(name)] = []string{value}
		}
	}
	put(h.User, user)
	put(h.Groups, groups)
	put(h.Email, email)
	if d.User != nil {
		put(h.Session, d.SessionID)
	} else {
		put(h.Session, "")
	}
}
