package session

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// The functions below are used inside handlers served by Manager.Handler.
// They are safe to call from several goroutines of one request. Each reads
// the store the first time the request needs its session; if that fails, they
// return a *StoreError and the request fails closed (Config.ErrorHandler)
// whatever the handler then writes.

// Get returns the value of key decoded into a T. A missing key returns the
// zero T and no error; use Has to tell the two apart.
func Get[T any](ctx context.Context, key string) (T, error) {
	var v T
	st, err := from(ctx)
	if err != nil {
		return v, err
	}
	st.mu.Lock()
	if err := st.ensureLoaded(); err != nil {
		st.mu.Unlock()
		return v, err
	}
	r := Record{Values: st.values()}
	data, ok := r.Lookup(key)
	st.mu.Unlock()
	if !ok {
		return v, nil
	}
	if err := decodeValue(data, &v); err != nil {
		return v, fmt.Errorf("session: value of %q is not a %T: %w", key, v, err)
	}
	return v, nil
}

// Has reports whether the session holds key. It is false when the store
// cannot be read.
func Has(ctx context.Context, key string) bool {
	st, err := lock(ctx)
	if err != nil {
		return false
	}
	defer st.mu.Unlock()
	r := Record{Values: st.values()}
	_, ok := r.Lookup(key)
	return ok
}

// Keys returns the session's keys in order.
func Keys(ctx context.Context) ([]string, error) {
	st, err := lock(ctx)
	if err != nil {
		return nil, err
	}
	defer st.mu.Unlock()
	vals := st.values()
	keys := make([]string, len(vals))
	for i, v := range vals {
		keys[i] = v.Key
	}
	return keys, nil
}

// Put sets key to value, encoded as JSON. A visitor without a session gets
// one: the commit creates it and sets the cookie.
func Put(ctx context.Context, key string, value any) error {
	data, err := encodeValue(value)
	if err != nil {
		return fmt.Errorf("session: encode %q: %w", key, err)
	}
	return change(ctx, op{kind: opSet, key: key, data: data})
}

// Delete removes key.
func Delete(ctx context.Context, key string) error {
	return change(ctx, op{kind: opDelete, key: key})
}

// Clear removes every key. The session itself, and its user, stay.
func Clear(ctx context.Context) error {
	return change(ctx, op{kind: opClear})
}

// Pop returns the value of key and deletes it: a flash message.
func Pop[T any](ctx context.Context, key string) (T, error) {
	var v T
	st, err := lock(ctx)
	if err != nil {
		return v, err
	}
	defer st.mu.Unlock()
	r := Record{Values: st.values()}
	data, ok := r.Lookup(key)
	if !ok {
		return v, nil
	}
	if err := decodeValue(data, &v); err != nil {
		return v, fmt.Errorf("session: value of %q is not a %T: %w", key, v, err)
	}
	return v, st.changeLocked(op{kind: opDelete, key: key})
}

// Update replaces the value of key by fn's result, atomically: if a
// concurrent request changes the session first, fn runs again on the newer
// value, so no update is lost (a cart, a counter). fn receives the zero T
// when the key is absent, may run more than once, and must not have side
// effects. An error from fn aborts the change and is returned. When fn runs
// again at commit, on a value a concurrent request changed, its error is the
// commit's: a handler whose fn can refuse (a full cart) calls Commit to see
// it, rather than leave it to Config.ErrorHandler when the response starts.
func Update[T any](ctx context.Context, key string, fn func(T) (T, error)) (T, error) {
	var result T
	update := func(old []byte, ok bool) ([]byte, error) {
		var v T
		if ok {
			if err := decodeValue(old, &v); err != nil {
				return nil, fmt.Errorf("session: value of %q is not a %T: %w", key, v, err)
			}
		}
		v, err := fn(v)
		if err != nil {
			return nil, err
		}
		result = v
		return encodeValue(v)
	}
	if err := change(ctx, op{kind: opUpdate, key: key, update: update}); err != nil {
		var zero T
		return zero, err
	}
	return result, nil
}

// lock returns the request's state, locked, with its session loaded. The
// caller unlocks st.mu.
func lock(ctx context.Context) (*state, error) {
	st, err := from(ctx)
	if err != nil {
		return nil, err
	}
	st.mu.Lock()
	if err := st.ensureLoaded(); err != nil {
		st.mu.Unlock()
		return nil, err
	}
	return st, nil
}

func change(ctx context.Context, o op) error {
	st, err := lock(ctx)
	if err != nil {
		return err
	}
	defer st.mu.Unlock()
	return st.changeLocked(o)
}

func (st *state) changeLocked(o op) error {
	if err := st.writable(); err != nil {
		return err
	}
	if err := st.apply(o); err != nil {
		return err
	}
	if o.kind == opSet || o.kind == opUpdate {
		if err := st.checkSize(st.vals); err != nil {
			// Refused whole: rebuild the values without it (apply
			// changed the request's own copy in place).
			_ = st.replay(st.rec)
			return err
		}
	}
	st.ops = append(st.ops, o)
	return nil
}

// writable refuses changes once the response has started: they could no
// longer be committed, and losing them silently is worse than an error.
func (st *state) writable() error {
	if st.started {
		st.m.log.Error("session: change after the response started; it was not saved", "session", st.id)
		return ErrResponseStarted
	}
	if st.destroy {
		return ErrDestroyed
	}
	return nil
}

// metaChange applies a metadata change.
func metaChange(ctx context.Context, f func(st *state)) error {
	st, err := lock(ctx)
	if err != nil {
		return err
	}
	defer st.mu.Unlock()
	if err := st.writable(); err != nil {
		return err
	}
	f(st)
	return nil
}

// Renew gives the session a new ID and keeps its data; the old ID stops
// opening it at once. Call it on every privilege change; Login calls it for
// you. The absolute deadline does not move.
func Renew(ctx context.Context) error {
	st, err := lock(ctx)
	if err != nil {
		return err
	}
	defer st.mu.Unlock()
	if err := st.writable(); err != nil {
		return err
	}
	prev := st.renew
	st.renew = true
	if err := st.checkSize(st.values()); err != nil {
		st.renew = prev // the renewing client's details would not fit
		return err
	}
	return nil
}

// Login records that the visitor authenticated as subject: the session gets
// a new ID (so an ID planted before login is worthless), keeps its data (an
// anonymous cart survives), and starts a new absolute lifetime. Data that must
// not survive the login should be deleted by the caller first.
//
// With Config.MaxSessionsPerUser set, Login makes room among the user's
// sessions (EvictOldest) or returns ErrLimit (RefuseNew) and changes nothing.
func Login(ctx context.Context, subject string) error {
	st, err := lock(ctx)
	if err != nil {
		return err
	}
	defer st.mu.Unlock()
	if err := st.writable(); err != nil {
		return err
	}
	prev := st.meta.subject
	st.meta.subject = &subject
	if err := st.checkSize(st.values()); err != nil {
		st.meta.subject = prev // the subject and the client's details would not fit
		return err
	}
	if err := st.m.enforceLimit(ctx, subject, st.id); err != nil {
		st.meta.subject = prev
		return err
	}
	st.renew, st.meta.login = true, true
	return nil
}

// Logout records that the user logged out: Destroy, named for what the
// application means.
func Logout(ctx context.Context) error { return Destroy(ctx) }

// Destroy ends the session (logout): its record becomes an ended tombstone
// without values, which never loads again and expires after
// Config.RenewGrace, and the cookie is expired. Changes made earlier in the
// request are dropped; later ones return ErrDestroyed. A concurrent request
// cannot bring it back.
func Destroy(ctx context.Context) error {
	return metaChange(ctx, func(st *state) { st.destroy = true; st.ops, st.meta, st.renew = nil, metaOps{}, false })
}

// RememberMe makes the session persistent (its cookie survives browser
// restarts, with RememberMeIdleTimeout and RememberMeAbsoluteTimeout), or a
// browser session again with on false. Usually set together with Login.
func RememberMe(ctx context.Context, on bool) error {
	return metaChange(ctx, func(st *state) { st.meta.persistent = &on })
}

// Subject returns the user the session belongs to; empty when anonymous or
// when the store cannot be read.
func Subject(ctx context.Context) string {
	info, _ := Info(ctx)
	return info.Subject
}

// Metadata describes a session.
type Metadata struct {
	ID               string    // store ID: the SHA-256 of the token, safe to log and show
	Subject          string    // the user; empty when anonymous
	Created          time.Time // creation
	LastActive       time.Time // last recorded activity (throttled)
	AuthTime         time.Time // last login; zero when anonymous
	IdleDeadline     time.Time // when it ends without activity
	AbsoluteDeadline time.Time // when it ends regardless
	Persistent       bool      // remember-me
	ClientAddr       string    // the client's address at creation or login
	UserAgent        string    // the client's user agent at creation or login
	New              bool      // created by this request, not yet committed
	Current          bool      // the session of the request (in Devices)
}

// Info returns the current session's metadata, as it will be committed. A
// visitor without a session gets the zero Metadata with New set.
func Info(ctx context.Context) (Metadata, error) {
	st, err := lock(ctx)
	if err != nil {
		return Metadata{}, err
	}
	defer st.mu.Unlock()
	if st.destroy || (st.rec == nil && !st.changed()) {
		return Metadata{New: true}, nil
	}
	rec := st.rec
	if st.changed() || rec == nil {
		rec = st.build(st.rec, st.id, 0)
	}
	md := metadataOf(rec)
	md.New, md.Current = st.rec == nil, true
	return md, nil
}

// ID returns the store ID of the current session (never the token), or ""
// when there is none yet. Rate limiters and logs key on it.
func ID(ctx context.Context) string {
	st, err := lock(ctx)
	if err != nil {
		return ""
	}
	defer st.mu.Unlock()
	return st.id
}

// Commit commits the changes now instead of when the response starts, and
// reports the result: for handlers that stream, or that must know the change
// landed before they act on it. Later changes are committed in turn.
func Commit(ctx context.Context) error {
	st, err := from(ctx)
	if err != nil {
		return err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.started {
		return st.failed
	}
	if err := st.ensureLoaded(); err != nil {
		return err
	}
	err = st.commitLocked()
	st.ops, st.meta, st.renew, st.destroy, st.expireCookie = nil, metaOps{}, false, false, false
	return err
}

// Token commits the session and returns its token, for the header
// transport: an API login hands it to the client, which sends it back in
// Config.Header. It returns "" when the request has no session. With the
// cookie transport it returns an error: the token belongs in the cookie only.
func Token(ctx context.Context) (string, error) {
	st, err := from(ctx)
	if err != nil {
		return "", err
	}
	if st.m.cfg.Header == "" {
		return "", fmt.Errorf("session: Token is for the header transport; this manager uses a cookie")
	}
	if err := Commit(ctx); err != nil {
		return "", err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.token, nil
}

// client describes the request's client for the devices list and the
// client-change check.
func (st *state) client() (addr, userAgent string) { return clientOf(st.r, st.m.cfg.ClientAddr) }

// clientOf describes the client of r, its address from addrOf when set.
func clientOf(r *http.Request, addrOf func(*http.Request) string) (addr, userAgent string) {
	if addrOf != nil {
		addr = addrOf(r)
	} else {
		addr = r.RemoteAddr
		if host, _, err := net.SplitHostPort(addr); err == nil {
			addr = host
		}
	}
	if len(addr) > 64 {
		addr = addr[:64] // an address, not a place for a client's text
	}
	userAgent = r.UserAgent()
	if len(userAgent) > 256 {
		userAgent = userAgent[:256]
	}
	return addr, userAgent
}
