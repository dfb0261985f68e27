package forwardauth

import (
	"errors"
	"strings"
)

// errAmbiguousPath is the reason a path is refused before any rule sees it:
// it could be read in more than one way by the servers behind the proxy.
var errAmbiguousPath = errors.New("forwardauth: ambiguous path")

// canonicalPath returns the path of a request target (path, optional query
// and fragment) as the policy matches it: percent-escapes decoded once,
// empty segments ("//") dropped, path parameters (";jsessionid=...") cut off
// each segment, "." and ".." resolved (never above the root). It is the
// reading of servers that cut path parameters (Tomcat); pathReadings gives
// the others too.
//
// Where servers disagree about a path it refuses it rather than guess: a
// backslash, a control character, an encoded "/" or "\" (%2F, %5C), an
// encoded control character, a "%" left after decoding (double encoding, an
// app that decodes twice would see something else) or a malformed escape
// each return errAmbiguousPath. A target that is not an absolute path does
// too.
func canonicalPath(target string) (string, error) { return canonicalPathParams(target, true) }

// pathReadings returns every way the servers behind a proxy may read
// target: with path parameters cut off each segment (Tomcat, which reads
// "..;" as "..") and with them kept as part of the segment (nginx, Caddy,
// Go, Express, for which "..;" is a name). The policy must allow all of
// them.
func pathReadings(target string) ([]string, error) {
	cut, err := canonicalPathParams(target, true)
	if err != nil {
		return nil, err
	}
	kept, err := canonicalPathParams(target, false)
	if err != nil {
		return nil, err
	}
	if kept == cut {
		return []string{cut}, nil
	}
	return []string{cut, kept}, nil
}

func canonicalPathParams(target string, cutParams bool) (string, error) {
	if i := strings.IndexAny(target, "?#"); i >= 0 {
		target = target[:i]
	}
	if target == "" || target[0] != '/' {
		return "", errAmbiguousPath
	}
	var b strings.Builder
	b.Grow(len(target))
	for i := 0; i < len(target); i++ {
		c := target[i]
		if c == '%' {
			if i+2 >= len(target) {
				return "", errAmbiguousPath
			}
			hi, ok1 := unhex(target[i+1])
			lo, ok2 := unhex(target[i+2])
			if !ok1 || !ok2 {
				return "", errAmbiguousPath
			}
			c = hi<<4 | lo
			if c == '/' || c == '%' {
				return "", errAmbiguousPath
			}
			i += 2
		}
		if c < 0x20 || c == 0x7f || c == '\\' {
			return "", errAmbiguousPath
		}
		b.WriteByte(c)
	}
	segs := strings.Split(b.String(), "/")
	out := make([]string, 0, len(segs))
	for _, s := range segs {
		if i := strings.IndexByte(s, ';'); i >= 0 && cutParams {
			s = s[:i]
		}
		switch s {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, s)
		}
	}
	return "/" + strings.Join(out, "/"), nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// canonicalHost returns the host name of a Host header value in the form
// the policy matches: lower case, without port or trailing dot. It returns
// false for anything that is not a plausible host name or IP literal.
func canonicalHost(host string) (string, bool) {
	if strings.HasPrefix(host, "[") { // [v6]:port
		end := strings.IndexByte(host, ']')
		if end < 0 || (end+1 < len(host) && host[end+1] != ':') {
			return "", false
		}
		host = host[:end+1]
	} else if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "" || len(host) > 253 {
		return "", false
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' ||
			c == '[' || c == ']' || c == ':') {
			return "", false
		}
	}
	return host, true
}
