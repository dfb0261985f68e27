package dbsc

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/sessionkit/session"
)

// ValueKey is the session key under which a session's binding is kept.
// The binding is a value of the session like any other, so it rides the
// session's compare-and-swap commit: of two registrations racing on one
// session exactly one lands, and the other, replayed on the newer value,
// finds the key registered and is refused. session.Clear removes it (the
// session is then unbound); deleting it by hand unbinds the session.
const ValueKey = "dbsc"

// maxUsed bounds the challenges a binding remembers as answered. Only
// those still within ChallengeTTL are kept; a browser answers one per
// refresh, and refreshes once per CookieTTL (spec section "User agent
// considerations": no second refresh while one is pending), so a session
// that answers more within one ChallengeTTL is refused.
const maxUsed = 8

// binding is what a session keeps about its device-bound session.
type binding struct {
	// ID is the DBSC session identifier (spec section "JSON Session
	// Instruction Format", session_identifier): 128 random bits, unrelated
	// to the session token, which never leaves the session cookie.
	ID         string `json:"id"`
	Alg        string `json:"alg"`
	Key        string `json:"key"` // the public JWK, in RFC 7638 canonical form
	Thumbprint string `json:"jkt"` // RFC 7638 thumbprint of Key
	// AuthTime is the session's AuthTime (Unix ns) when the key was
	// registered. A login renews the session and keeps its values, but a
	// binding belongs to the login it was made in: after another login it
	// counts as absent, and the new login registers afresh.
	AuthTime   int64 `json:"auth"`
	Registered int64 `json:"at"` // Unix seconds
	// Used lists the challenges answered within ChallengeTTL.
	Used []usedChallenge `json:"used,omitempty"`
}

type usedChallenge struct {
	Nonce   string `json:"n"`
	Expires int64  `json:"exp"` // Unix seconds; pruned after
}

var (
	errRegistered    = errors.New("dbsc: a key is already registered for this login")
	errReplay        = errors.New("dbsc: challenge already answered")
	errTooManyProofs = errors.New("dbsc: too many proofs within the challenge lifetime")
	errUnbound       = errors.New("dbsc: the session's binding changed")
)

// valid reports whether bd is a binding of the session's current login.
func (bd *binding) valid(authTime time.Time) bool {
	return bd.ID != "" && bd.AuthTime == authNanos(authTime)
}

func authNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func (bd *binding) publicKey() (*publicKey, error) {
	k, err := parseJWK([]byte(bd.Key))
	if err != nil || k.alg != bd.Alg {
		return nil, errJWK
	}
	return k, nil
}

// current returns the binding of the request's session, if it has one for
// its current login.
func current(ctx context.Context) (*binding, session.Metadata, error) {
	info, err := session.Info(ctx)
	if err != nil {
		return nil, info, err
	}
	if info.New {
		return nil, info, nil
	}
	bd, err := session.Get[binding](ctx, ValueKey)
	if err != nil {
		return nil, info, err
	}
	if !bd.valid(info.AuthTime) {
		return nil, info, nil
	}
	return &bd, info, nil
}

// markUsed records c as answered in the binding with identifier id,
// refusing it if it was answered before. It runs inside session.Update,
// so it is replayed on the newer value when a concurrent request commits
// first: two requests answering one challenge cannot both succeed.
func markUsed(id string, authTime time.Time, c challenge, ttl time.Duration, now time.Time) func(binding) (binding, error) {
	return func(bd binding) (binding, error) {
		if !bd.valid(authTime) || bd.ID != id {
			return bd, errUnbound
		}
		kept := bd.Used[:0:0]
		for _, u := range bd.Used {
			if u.Nonce == c.nonce {
				return bd, errReplay
			}
			if u.Expires > now.Unix() {
				kept = append(kept, u)
			}
		}
		if len(kept) >= maxUsed {
			return bd, errTooManyProofs
		}
		bd.Used = append(kept, usedChallenge{Nonce: c.nonce, Expires: c.issued.Add(ttl).Unix() + 1})
		return bd, nil
	}
}

// register makes the binding for a verified registration proof. It runs
// inside session.Update: a binding already registered for the session's
// current login is never replaced, whichever request commits first.
func register(nb binding, c challenge, ttl time.Duration) func(binding) (binding, error) {
	return func(old binding) (binding, error) {
		if old.ID != "" && old.AuthTime == nb.AuthTime {
			return old, errRegistered
		}
		nb.Used = []usedChallenge{{Nonce: c.nonce, Expires: c.issued.Add(ttl).Unix() + 1}}
		return nb, nil
	}
}

// Binding describes the key a session is bound to, for a "your devices"
// page.
type Binding struct {
	ID         string    // the DBSC session identifier
	Algorithm  string    // "ES256" or "RS256"
	Thumbprint string    // RFC 7638 thumbprint of the public key
	Registered time.Time // when the browser registered the key
}

// BindingOf reports the binding of a stored session record, as listed by
// session.Manager's store (a SubjectIndex or an Iterator): whether the
// session is bound to a device key for its current login. It is safe for
// concurrent use.
func BindingOf(rec *session.Record) (Binding, bool) {
	data, ok := rec.Lookup(ValueKey)
	if !ok {
		return Binding{}, false
	}
	var bd binding
	if err := json.Unmarshal(data, &bd); err != nil || !bd.valid(rec.AuthTime) {
		return Binding{}, false
	}
	return bd.public(), true
}

func (bd *binding) public() Binding {
	return Binding{ID: bd.ID, Algorithm: bd.Alg, Thumbprint: bd.Thumbprint, Registered: time.Unix(bd.Registered, 0)}
}
