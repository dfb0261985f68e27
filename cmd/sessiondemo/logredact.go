package main

import (
	"net/http"
	"regexp"
	"strings"
)

// Session tokens travel in the cookie or the Authorization header, never in
// a URL; but a client may put one there anyway (a path parameter
// ";__Host-session=...", a query value, a link pasted with a token in it),
// and a request log is read by more people than the session store. So the
// access log, and every log line that names a request's path, shows the
// path and query after redactURL, which hides:
//
//   - the value of any parameter, in the path (";name=value") or the query
//     ("name=value"), whose name mentions a session, a token, a key, a
//     password or a secret: the cookie's own name included, whatever
//     -insecure-cookie makes it;
//   - any run of 43 or more base64url characters, the shape of a session
//     token (43) or a CSRF token (76 or 86), wherever it is.
//
// Both are judged on the text percent-decoded (up to four times; text
// encoded deeper is hidden whole), so "%5F%5FHost-session=" or a token
// spelled in escapes is caught too; the log shows the decoded text. In the
// query, a secret parameter's value is hidden up to the next raw '&', as
// the server splits it, before anything is decoded: a '/', '?' or an
// escaped '&', ';' or '#' in a password hides nothing less.
const redacted = "[redacted]"

var (
	// tokenShaped is a run of base64url characters as long as a token.
	tokenShaped = regexp.MustCompile(`[A-Za-z0-9_-]{43,}`)
	// secretParam is a parameter with a secret-sounding name, and its
	// value up to the next separator.
	secretParam = regexp.MustCompile(`(?i)((?:^|[;&?/])[^;&?/=]*(?:session|token|csrf|sid|auth|key|pass|pwd|secret|credential)[^;&?/=]*=)[^;&?/#]*`)
	// secretName is a parameter name that sounds secret.
	secretName = regexp.MustCompile(`(?i)session|token|csrf|sid|auth|key|pass|pwd|secret|credential`)
)

// redactURL returns r's path and query fit for a log line.
func redactURL(r *http.Request) string {
	s := r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		s += "?" + r.URL.RawQuery
	} else if r.URL.ForceQuery {
		s += "?"
	}
	return redactLogText(s)
}

// redactPath returns r's path fit for a log line.
func redactPath(r *http.Request) string { return redactLogText(r.URL.EscapedPath()) }

// maxUnescapes bounds how often redactLogText decodes: no client encodes
// honestly more than twice, and each round costs a pass over the text.
const maxUnescapes = 4

// redactLogText decodes s and hides what may be a token in it. Text still
// encoded after maxUnescapes rounds is hidden whole: a token encoded once
// more than the rounds undo would otherwise be logged one unescape away
// from readable.
func redactLogText(s string) string {
	if path, query, ok := strings.Cut(s, "?"); ok {
		s = path + "?" + redactQueryValues(query)
	}
	for i := 0; ; i++ {
		d := unescapeLenient(s)
		if d == s {
			break
		}
		if i == maxUnescapes {
			return redacted
		}
		s = d
	}
	s = secretParam.ReplaceAllString(s, "${1}"+redacted)
	return tokenShaped.ReplaceAllString(s, redacted)
}

// redactQueryValues hides the whole raw value of each parameter of query
// whose decoded name sounds secret.
func redactQueryValues(query string) string {
	pairs := strings.Split(query, "&")
	for i, p := range pairs {
		name, _, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		decoded := name
		for range maxUnescapes {
			decoded = unescapeLenient(decoded)
		}
		if secretName.MatchString(decoded) {
			pairs[i] = name + "=" + redacted
		}
	}
	return strings.Join(pairs, "&")
}

// unescapeLenient decodes the valid %XX escapes of s and leaves anything
// else as it is.
func unescapeLenient(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
