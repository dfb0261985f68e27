package dbsc

// Reason says why a request was refused, unbound or skipped. Like
// EventKind it is a small fixed set, never derived from what the client
// sent, so it is safe as a metric label.
type Reason string

// Reasons a request is not bound.
const (
	ReasonNoSession     Reason = "no_session"     // no live session (never logged in, logged out, revoked, expired)
	ReasonUnregistered  Reason = "unregistered"   // the session has no key registered for its current login
	ReasonNoCookie      Reason = "no_cookie"      // the bound cookie is missing
	ReasonCookieExpired Reason = "cookie_expired" // the bound cookie is past its deadline
	ReasonCookieInvalid Reason = "cookie_invalid" // the bound cookie is forged, malformed or from another binding
)

// Reasons a registration or refresh is refused.
const (
	ReasonNoProof          Reason = "no_proof"          // Secure-Session-Response missing or not one sf-string
	ReasonNoSessionID      Reason = "no_session_id"     // refresh without one well-formed Sec-Secure-Session-Id
	ReasonSessionMismatch  Reason = "session_mismatch"  // Sec-Secure-Session-Id is not the session's binding
	ReasonChallenge        Reason = "challenge"         // the jti is not a challenge this server issued for this session and endpoint
	ReasonChallengeExpired Reason = "challenge_expired" // the challenge is past Config.ChallengeTTL
	ReasonReplay           Reason = "replay"            // the challenge was already answered
	ReasonTooManyProofs    Reason = "too_many_proofs"   // more proofs within ChallengeTTL than a browser makes
	ReasonRegistered       Reason = "already_registered"
	ReasonOversize         Reason = "oversize"
	ReasonEncoding         Reason = "encoding"
	ReasonJSON             Reason = "json"
	ReasonTyp              Reason = "typ"
	ReasonAlg              Reason = "alg"
	ReasonAlgNone          Reason = "alg_none"
	ReasonCrit             Reason = "crit"
	ReasonJWK              Reason = "jwk"
	ReasonJWKMissing       Reason = "jwk_missing"
	ReasonJWKForbidden     Reason = "jwk_forbidden"
	ReasonAlgKeyMismatch   Reason = "alg_key_mismatch"
	ReasonSignature        Reason = "signature"
	ReasonJTI              Reason = "jti"
	ReasonStore            Reason = "store" // the session could not be read or committed
)

// Reasons the browser gives in Secure-Session-Skipped (spec section
// "Secure-Session-Skipped HTTP header field"); any other token is
// reported as ReasonSkippedOther.
const (
	ReasonSkippedUnreachable   Reason = "unreachable"
	ReasonSkippedServerError   Reason = "server_error"
	ReasonSkippedQuotaExceeded Reason = "quota_exceeded"
	ReasonSkippedOther         Reason = "other"
)
