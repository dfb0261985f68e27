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
// Option names are judged as the drivers read them, percent-decoded and in
// any case: "?p%61ssword=..." and "?PASSWORD=..." are hidden like
// "?password=...", and so is the whole value of a secret option, up to the
// next '&' (in a keyword/value DSN, the next space), even where it holds a
// ';' or a '#'.
//
// It errs on the side of hiding: it never fails, and a string that is not a
// URL is handled as a DSN, with everything before an '@' and every
// password=... hidden. Redact("redis://:s3cret@10.0.0.1:6379/0") is
// "redis://:xxxxx@10.0.0.1:6379/0". It is safe for concurrent use.
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
	b.WriteString(redactQuery(rest))
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

// secretWord matches a piece of an option name that suggests a secret.
// (?i) folds case the Unicode way, so "PASSWORD" and "paſsword" match too.
var secretWord = regexp.MustCompile(`(?i)pass|pwd|secret|token|key|credential`)

// isSecretName reports whether the option name, as written in a URL, names a
// secret once decoded. The drivers (net/url's ParseQuery for go-redis and
// this package, pgx's libpq-compatible parser) percent-decode names before
// they look them up, so the name is judged raw and after each round of
// decoding. A name with a '%' that starts no valid escape, or still
// changing after a few rounds, is taken for a secret: no one can say how
// the next reader decodes it.
func isSecretName(name string) bool {
	for range 4 {
		if secretWord.MatchString(name) || hasBrokenEscape(name) {
			return true
		}
		decoded := unescapeLenient(name)
		if decoded == name {
			return false
		}
		name = decoded
	}
	return true
}

// unescapeLenient decodes the valid %XX escapes of s and a '+' (a space in
// a query), and leaves anything else as it is, so that a name with a broken
// escape is still judged on the rest of its letters.
func unescapeLenient(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		case c == '+':
			b.WriteByte(' ')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// hasBrokenEscape reports whether s has a '%' not followed by two hex digits.
func hasBrokenEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && !(i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2])) {
			return true
		}
	}
	return false
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

// redactQuery hides the values of the options after the first '?' of s
// whose decoded name looks secret. Options are separated by '&', as the
// drivers split them: a value runs to the next '&', ';' and '#' included.
func redactQuery(s string) string {
	q := strings.IndexByte(s, '?')
	if q < 0 {
		return s
	}
	var b strings.Builder
	b.WriteString(s[:q+1])
	rest := s[q+1:]
	for rest != "" {
		pair, sep := rest, ""
		if i := strings.IndexByte(rest, '&'); i >= 0 {
			pair, sep, rest = rest[:i], "&", rest[i+1:]
		} else {
			rest = ""
		}
		b.WriteString(redactPair(pair) + sep)
	}
	return b.String()
}

// redactPair hides the value of one '&'-separated option whose name looks
// secret. Some drivers split on ';' too: an option after a ';' whose name
// looks secret hides the rest of the pair, so a ';' in a password shows
// nothing either way.
func redactPair(pair string) string {
	for start := 0; start <= len(pair); {
		seg := pair[start:]
		end := strings.IndexByte(seg, ';')
		if end >= 0 {
			seg = seg[:end]
		}
		if name, _, hasValue := strings.Cut(seg, "="); hasValue && isSecretName(name) {
			return pair[:start+len(name)+1] + mask
		}
		if end < 0 {
			break
		}
		start += end + 1
	}
	return pair
}

// secretParam matches an option whose name looks secret, with the text
// before it: in a URL (?password=...&, up to the next '&'), and, as
// dsnSecret, in a keyword/value DSN (password=... up to the next space, or
// password='...'). It is the second net behind redactQuery, for options
// after a ';' or '#' that a driver may still read.
var (
	secretParam = regexp.MustCompile(`(?i)((?:^|[?&;#\s])[\w.-]*(?:pass|pwd|secret|token|key|credential)[\w.-]*\s*=\s*)('(?:[^'\\]|\\.)*'?|[^\s&]*)`)
	dsnSecret   = regexp.MustCompile(`(?i)((?:^|[?&;#\s])[\w.-]*(?:pass|pwd|secret|token|key|credential)[\w.-]*\s*=\s*)('(?:[^'\\]|\\.)*'?|\S*)`)
)

// redactParams hides the values of the options of s that look secret.
func redactParams(s string) string {
	return secretParam.ReplaceAllString(s, "${1}"+mask)
}

// redactDSN hides the secrets of a string that is not a URL.
func redactDSN(s string) string {
	if at := strings.LastIndex(s, "@"); at >= 0 {
		s = mask + s[at:]
	}
	return dsnSecret.ReplaceAllString(redactQuery(s), "${1}"+mask)
}
