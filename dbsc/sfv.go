package dbsc

import (
	"net/http"
	"strings"
)

// The DBSC headers are Structured Fields (RFC 9651). This file holds the
// little of RFC 9651 they need: serialising sf-strings with parameters,
// parsing one sf-string item (Secure-Session-Response,
// Sec-Secure-Session-Id) and the tokens of a list (Secure-Session-Skipped).

// maxHeaderBytes bounds a DBSC request header before it is parsed.
const maxHeaderBytes = maxProofBytes + 64

// appendSFString appends s as an sf-string (RFC 9651 section 4.1.6). s
// must be printable ASCII, which New checks for configured strings and
// which base64url values are.
func appendSFString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, s[i])
	}
	return append(dst, '"')
}

// printableASCII reports whether s can be an sf-string.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// singleHeader returns the one value of header name. A header sent twice
// is combined with a comma (RFC 9651 section 4.2), which makes an
// sf-string item invalid, so it is refused.
func singleHeader(h http.Header, name string) (string, bool) {
	v := h.Values(name)
	if len(v) != 1 || len(v[0]) > maxHeaderBytes {
		return "", false
	}
	return v[0], true
}

// parseSFString parses a header whose value is an sf-string item (RFC
// 9651 section 4.2.5). Parameters after the string are ignored, as the
// spec says for both headers that carry one ("Any parameters SHOULD be
// ignored"), but they must start with ';'.
func parseSFString(v string) (string, bool) {
	v = strings.TrimLeft(v, " ")
	if len(v) == 0 || v[0] != '"' {
		return "", false
	}
	var b strings.Builder
	for i := 1; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\':
			i++
			if i == len(v) || (v[i] != '"' && v[i] != '\\') {
				return "", false
			}
			b.WriteByte(v[i])
		case c == '"':
			rest := strings.TrimRight(v[i+1:], " ")
			if rest != "" && rest[0] != ';' {
				return "", false
			}
			return b.String(), true
		case c < 0x20 || c > 0x7e:
			return "", false
		default:
			b.WriteByte(c)
		}
	}
	return "", false
}

// skippedReasons returns the reasons of a Secure-Session-Skipped header
// (spec section "Secure-Session-Skipped HTTP header field"), a list of
// tokens with a session_identifier parameter. Each member is mapped to one
// of the known reasons, or ReasonSkippedOther, so that a client cannot mint
// metric labels. At most 8 members are read.
func skippedReasons(h http.Header) []Reason {
	vals := h.Values("Secure-Session-Skipped")
	if len(vals) == 0 {
		return nil
	}
	var out []Reason
	for _, v := range vals {
		if len(v) > maxHeaderBytes {
			return append(out, ReasonSkippedOther)
		}
		for member := range strings.SplitSeq(v, ",") {
			if len(out) == 8 {
				return out
			}
			token, _, _ := strings.Cut(member, ";")
			switch Reason(strings.TrimSpace(token)) {
			case ReasonSkippedUnreachable:
				out = append(out, ReasonSkippedUnreachable)
			case ReasonSkippedServerError:
				out = append(out, ReasonSkippedServerError)
			case ReasonSkippedQuotaExceeded:
				out = append(out, ReasonSkippedQuotaExceeded)
			default:
				out = append(out, ReasonSkippedOther)
			}
		}
	}
	return out
}
