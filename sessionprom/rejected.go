package sessionprom

import (
	"errors"

	"github.com/sessionkit/session/csrf"
)

// Reasons for Rejected: the values of the reason label of rejections_total.
const (
	ReasonCSRFCrossOrigin    = "csrf_cross_origin"    // csrf.ErrCrossOrigin
	ReasonCSRFMissingToken   = "csrf_missing_token"   // csrf.ErrMissingToken
	ReasonCSRFMalformedToken = "csrf_malformed_token" // csrf.ErrMalformedToken
	ReasonCSRFBadToken       = "csrf_bad_token"       // csrf.ErrBadToken
	ReasonRateLimit          = "rate_limit"           // a ratelimit.Limiter refused the request
	ReasonOther              = "other"                // anything else
)

// reasons lists every reason label value; ReasonOther must stay last.
var reasons = [...]string{
	ReasonCSRFCrossOrigin, ReasonCSRFMissingToken, ReasonCSRFMalformedToken, ReasonCSRFBadToken,
	ReasonRateLimit, ReasonOther,
}

// Rejected counts a request refused by CSRF protection or a rate limit, in
// rejections_total{reason}. reason is one of the Reason constants; any other
// value is counted as ReasonOther, so that the label set stays fixed whatever
// the caller passes.
func (m *Metrics) Rejected(reason string) {
	for i, r := range reasons {
		if r == reason {
			m.rejection[i].Inc()
			return
		}
	}
	m.rejection[len(reasons)-1].Inc()
}

// CSRFReason maps an error from csrf (the one handed to csrf.Options.OnReject)
// to its reason for Rejected:
//
//	csrf.Options{OnReject: func(r *http.Request, err error) { metrics.Rejected(sessionprom.CSRFReason(err)) }}
func CSRFReason(err error) string {
	switch {
	case errors.Is(err, csrf.ErrCrossOrigin):
		return ReasonCSRFCrossOrigin
	case errors.Is(err, csrf.ErrMissingToken):
		return ReasonCSRFMissingToken
	case errors.Is(err, csrf.ErrMalformedToken):
		return ReasonCSRFMalformedToken
	case errors.Is(err, csrf.ErrBadToken):
		return ReasonCSRFBadToken
	}
	return ReasonOther
}
