package csrf

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"

	"github.com/sessionkit/session"
)

// The session-bound token. A session's secret is 32 bytes from crypto/rand, kept in the session under
// secretKey together with the ID of the session it was issued for. Pages get
// it masked: base64url(mask || mask XOR secret) with a fresh random mask each
// time, so the token differs in every response and a compression side
// channel (BREACH) learns nothing it could reuse. A renewal (login) carries
// the session's data over to a new ID; a secret whose ID is not the current
// one is therefore treated as absent, which is how tokens rotate on renewal
// without the session package knowing about them.
const (
	secretKey  = "csrf.secret"
	secretLen  = 32
	maskedLen  = 2 * secretLen
	tokenLen   = 86 // base64.RawURLEncoding.EncodedLen(maskedLen)
	issueTries = 3
)

var encoding = base64.RawURLEncoding.Strict()

// stored is the session value under secretKey.
type stored struct {
	Secret  []byte `json:"secret"`
	Session string `json:"session"` // session.ID the secret was issued for
}

// Token returns a token to send back with the next unsafe request: in the
// form field (see TemplateField) or the header. Each call returns a
// different string.
//
// For a request with a session it is the session-bound token: made from a
// secret kept in the session, created by the first call (a session write),
// and valid until the session is renewed (login) or ends. For a visitor
// without a session it is a sessionless token (see the package doc): no
// session is created, nothing is written and no cookie is set, and it is
// valid for Options.SessionlessTTL, from this client, for as long as the
// visitor still has no session.
//
// It commits the session's pending changes first, so a token made after
// Login in the same request belongs to the renewed session, and one made
// after the request's first write belongs to the session that write
// created; call it before the response starts (render templates into a
// buffer, or call it before writing). It needs the session middleware; the
// Protection's options reach it through Handler (outside Handler it uses
// the zero Options). It is safe to call from several goroutines of one
// request.
func Token(r *http.Request) (string, error) {
	ctx := r.Context()
	if err := session.Commit(ctx); err != nil {
		return "", fmt.Errorf("csrf: token: %w", err)
	}
	info, err := session.Info(ctx)
	if err != nil {
		return "", fmt.Errorf("csrf: token: %w", err)
	}
	if info.ID == "" {
		p := protectionOf(r)
		return p.newSessionless(r, p.now()), nil
	}
	secret, err := issue(ctx)
	if err != nil {
		return "", fmt.Errorf("csrf: token: %w", err)
	}
	return mask(secret), nil
}

// TemplateField returns a hidden form input carrying a fresh token, for
// html/template forms:
//
//	<form method="post">{{.CSRFField}} ...</form>
//
// renders <input type="hidden" name="csrf_token" value="...">, with the
// FieldName of the Protection serving the request. The conditions of Token
// apply: for a visitor without a session it writes nothing.
func TemplateField(r *http.Request) (template.HTML, error) {
	token, err := Token(r)
	if err != nil {
		return "", err
	}
	// The token is base64url: nothing in it needs escaping.
	return template.HTML(`<input type="hidden" name="` + template.HTMLEscapeString(protectionOf(r).field) +
		`" value="` + token + `">`), nil
}

// issue returns the secret of the request's session, creating it if needed.
// The caller has checked that there is a session.
func issue(ctx context.Context) ([]byte, error) {
	// A Login or Renew earlier in this request moves the session to its new
	// ID only when it commits: commit now, so that the secret is bound to
	// the ID the next request will carry.
	if err := session.Commit(ctx); err != nil {
		return nil, err
	}
	for range issueTries {
		secret, err := currentSecret(ctx)
		if err != nil || secret != nil {
			return secret, err
		}
		candidate := make([]byte, secretLen)
		rand.Read(candidate) // never fails (crypto/rand documents it)
		id := session.ID(ctx)
		if id == "" {
			return nil, errors.New("the session ended while its token was made")
		}
		// Update, not Put: when concurrent requests of the session (two
		// tabs) issue a secret at once, the first one to commit wins and
		// the others adopt it, so every page's token stays valid.
		_, err = session.Update(ctx, secretKey, func(cur stored) (stored, error) {
			if cur.Session == id && len(cur.Secret) == secretLen {
				return cur, nil
			}
			return stored{Secret: candidate, Session: id}, nil
		})
		if err != nil && !failure(err) {
			// The key holds something else; replace it.
			err = session.Put(ctx, secretKey, stored{Secret: candidate, Session: id})
		}
		if err != nil {
			return nil, err
		}
		if err := session.Commit(ctx); err != nil {
			return nil, err
		}
		// Read back what landed. Only a renewal by a concurrent request
		// between the two commits makes it stale; then try again.
	}
	return nil, errors.New("could not store a secret: the session keeps being renewed")
}

// currentSecret returns the session's secret, or nil when it has none that
// was issued for its current ID. The error is a failure to read the session.
func currentSecret(ctx context.Context) ([]byte, error) {
	v, err := session.Get[stored](ctx, secretKey)
	if err != nil {
		if failure(err) {
			return nil, err
		}
		return nil, nil // a value of another shape: no secret
	}
	if len(v.Secret) != secretLen || v.Session == "" || v.Session != session.ID(ctx) {
		return nil, nil
	}
	return v.Secret, nil
}

// failure reports whether err means the session could not be used at all,
// as opposed to a stored value that does not decode.
func failure(err error) bool {
	var se *session.StoreError
	return errors.As(err, &se) || errors.Is(err, session.ErrNoMiddleware) ||
		errors.Is(err, session.ErrResponseStarted) || errors.Is(err, session.ErrDestroyed) ||
		errors.Is(err, session.ErrTooManyConflicts)
}

// mask returns a new token for secret.
func mask(secret []byte) string {
	var b [maskedLen]byte
	rand.Read(b[:secretLen])
	subtle.XORBytes(b[secretLen:], b[:secretLen], secret)
	return encoding.EncodeToString(b[:])
}

// maskedToken is a decoded token: the mask, then the secret XOR the mask.
type maskedToken [maskedLen]byte

// decodeToken decodes s if it has the exact shape of a token mask makes:
// 86 characters of unpadded base64url in its one canonical spelling.
func decodeToken(s string) (t maskedToken, ok bool) {
	if len(s) != tokenLen {
		return t, false
	}
	var src [tokenLen]byte
	copy(src[:], s)
	n, err := encoding.Decode(t[:], src[:])
	return t, err == nil && n == maskedLen // the decoder skips \r and \n: n tells
}

// matches reports, in constant time, whether t was made from secret.
func (t *maskedToken) matches(secret []byte) bool {
	if len(secret) != secretLen {
		return false
	}
	var got [secretLen]byte
	subtle.XORBytes(got[:], t[:secretLen], t[secretLen:])
	return subtle.ConstantTimeCompare(got[:], secret) == 1
}
