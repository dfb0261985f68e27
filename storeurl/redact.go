package storeurl

import (
	"regexp"
	"strings"
)

// mask replaces what Redact hides, as in net/url's URL.Redacted.
const mask = "xxxxx"

// Redact returns rawURL fit for a log line: the password of its userinfo
// and the values of query options whose name suggests a secret (password,
// sentinel_password, sslpassword, token, ...) are replaced by "xxxxx".
//
// It errs on the side of hiding: it never fails, and a string that is not a
// URL is handled as a DSN, with everything before an '@' and every
// password=... hidden. Redact("redis://:s3cret@10.0.0.1:6379/0") is
// "redis://:xxxxx@10.0.0.1:6379/0".
func Redact(rawURL string) string {
	scheme, rest, ok := strings.Cut(rawURL, ":")
	if !ok || !isScheme(scheme) {
		return redactDSN(rawURL)
	}
	var b strings.Builder
	b.WriteString(scheme + ":")
	if after, ok := strings.CutPrefix(rest, "//"); ok {
		b.WriteString("//")
		rest = after
		// The userinfo ends at the last '@': a password may hold an
		// unescaped '/', '?' or '#', and hiding too much is better than
		// showing a piece of it.
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if user, _, hasPass := strings.Cut(rest[:at], ":"); hasPass {
				b.WriteString(user + ":" + mask + "@")
			} else {
				b.WriteString(rest[:at+1])
			}
			rest = rest[at+1:]
		}
	} else if at := strings.LastIndex(rest, "@"); at >= 0 {
		// scheme:user:password@..., or a go-sql-driver DSN (whose user
		// looks like a scheme): hide all that precedes the '@'.
		b.WriteString(mask + "@")
		rest = rest[at+1:]
	}
	b.WriteString(rest)
	return redactParams(b.String())
}

func isScheme(s string) bool {
	for i, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}

// secretParam matches an option whose name looks secret, in a query
// (?password=...&) or in a keyword/value DSN (password=... or
// password='...'), with the text before it.
var secretParam = regexp.MustCompile(`(?i)((?:^|[?&;\s])[\w.-]*(?:pass|pwd|secret|token|key|credential)[\w.-]*\s*=\s*)('(?:[^'\\]|\\.)*'?|[^\s&;#]*)`)

// redactParams hides the values of the options of s that look secret.
func redactParams(s string) string {
	return secretParam.ReplaceAllString(s, "${1}"+mask)
}

// redactDSN hides the secrets of a string that is not a URL.
func redactDSN(s string) string {
	if at := strings.LastIndex(s, "@"); at >= 0 {
		s = mask + s[at:]
	}
	return redactParams(s)
}
