package session

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// A request does not write its session back; it records what it changed and
// replays the changes on the newest version whenever a compare-and-swap finds
// that a concurrent request committed first. That is how parallel requests
// setting different keys all land, and why Update never loses an increment.

type opKind uint8

const (
	opSet opKind = iota
	opDelete
	opClear
	opUpdate
)

type op struct {
	kind opKind
	key  string
	data []byte
	// update computes the new encoded value from the current one; it may
	// run again on a newer version.
	update func(old []byte, ok bool) ([]byte, error)
}

// metaOps are the metadata changes of a request.
type metaOps struct {
	subject    *string
	login      bool // AuthTime = now, a new absolute window
	persistent *bool
}

func (m metaOps) any() bool { return m.authChange() || m.persistent != nil }

// authChange reports whether the request logs in or changes the subject.
func (m metaOps) authChange() bool { return m.subject != nil || m.login }

// changed reports whether the request has anything to commit.
func (st *state) changed() bool { return len(st.ops) > 0 || st.meta.any() || st.renew }

// values returns the current values, as the handler sees them.
func (st *state) values() []Value {
	if st.vals != nil {
		return st.vals
	}
	if st.rec != nil {
		return st.rec.Values
	}
	return nil
}

// apply applies o to the current values, copying them first if needed.
func (st *state) apply(o op) error {
	vals, err := applyOp(st.ownValues(), o)
	if err != nil {
		return err
	}
	st.vals = vals
	return nil
}

// ownValues returns a copy of the current values that the request may change;
// records from the store are shared and never modified.
func (st *state) ownValues() []Value {
	if st.vals == nil {
		var base []Value
		if st.rec != nil {
			base = st.rec.Values
		}
		st.vals = append(make([]Value, 0, len(base)+1), base...)
	}
	return st.vals
}

func applyOp(vals []Value, o op) ([]Value, error) {
	if o.kind == opClear {
		return vals[:0], nil
	}
	r := Record{Values: vals}
	i, found := r.find(o.key)
	data := o.data
	switch o.kind {
	case opDelete:
		if found {
			vals = slices.Delete(vals, i, i+1)
		}
		return vals, nil
	case opUpdate:
		var old []byte
		if found {
			old = vals[i].Data
		}
		var err error
		if data, err = o.update(old, found); err != nil {
			return vals, err
		}
	}
	if found {
		vals[i].Data = data
		return vals, nil
	}
	return slices.Insert(vals, i, Value{Key: o.key, Data: data}), nil
}

// replay rebuilds the current values on a newer record.
func (st *state) replay(rec *Record) error {
	st.rec, st.vals = rec, nil
	if len(st.ops) == 0 {
		return nil
	}
	vals := st.ownValues()
	for _, o := range st.ops {
		var err error
		if vals, err = applyOp(vals, o); err != nil {
			return err
		}
	}
	st.vals = vals
	return nil
}

// build makes the next record for id from base (nil for a new session) and
// the request's changes.
func (st *state) build(base *Record, id string, version uint64) *Record {
	m, now := st.m, st.now()
	rec := &Record{ID: id, Version: version}
	if base != nil {
		rec.Subject, rec.Created, rec.AuthTime = base.Subject, base.Created, base.AuthTime
		rec.Persistent, rec.ClientAddr, rec.UserAgent = base.Persistent, base.ClientAddr, base.UserAgent
		rec.ClientLocked = base.ClientLocked
	} else {
		rec.Created = now
		rec.ClientAddr, rec.UserAgent = st.client()
	}
	if st.meta.subject != nil {
		rec.Subject = *st.meta.subject
	}
	if st.meta.login {
		rec.AuthTime = now
		rec.ClientAddr, rec.UserAgent = st.client()
		rec.ClientLocked = false
	}
	if st.meta.persistent != nil {
		rec.Persistent = *st.meta.persistent
	}
	// The absolute window starts at creation or at the last authentication,
	// whichever is later; renewing the ID alone never moves it.
	start := rec.Created
	if rec.AuthTime.After(start) {
		start = rec.AuthTime
	}
	idle, absolute := m.lifetimes(rec.Persistent)
	rec.AbsoluteDeadline = start.Add(absolute)
	rec.LastActive = now
	rec.IdleDeadline = now.Add(idle)
	if base != nil && base.Persistent == rec.Persistent {
		// A request that read the clock before a newer commit replays on
		// it: its older reading must not move anything back.
		if base.LastActive.After(rec.LastActive) {
			rec.LastActive = base.LastActive
		}
		if base.IdleDeadline.After(rec.IdleDeadline) {
			rec.IdleDeadline = base.IdleDeadline
		}
	}
	rec.IdleDeadline = minTime(rec.IdleDeadline, rec.AbsoluteDeadline)
	vals := st.values()
	if len(vals) > 0 {
		rec.Values = vals
	}
	return rec
}

// checkSize refuses values that would make the record larger than
// Config.MaxRecordBytes.
func (st *state) checkSize(vals []Value) error {
	limit := st.m.cfg.MaxRecordBytes
	r := Record{Values: vals}
	if st.rec != nil {
		r.Subject, r.ClientAddr, r.UserAgent = st.rec.Subject, st.rec.ClientAddr, st.rec.UserAgent
	} else {
		r.ClientAddr, r.UserAgent = st.client()
	}
	if st.meta.login || st.meta.subject != nil || st.renew {
		r.ClientAddr, r.UserAgent = st.client() // a new ID records the client that got it
	}
	if st.meta.subject != nil {
		r.Subject = *st.meta.subject
	}
	// encodedSize saw zero times and version: each can take up to 9 more
	// bytes once set.
	if n := encodedSize(&r) + 6*9; n > limit {
		return fmt.Errorf("%w: %d bytes, more than Config.MaxRecordBytes (%d)", ErrTooLarge, n, limit)
	}
	return nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// commitLocked writes the request's changes. The caller holds st.mu.
func (st *state) commitLocked() error {
	if st.loadErr != nil {
		return st.loadErr
	}
	// Read the clock again: a touch by a faster request that ran while
	// this one was busy must not be undone by deadlines from its load time
	// (a touch changes no version, so the compare-and-swap cannot tell).
	st.touched = time.Time{}
	if st.destroy {
		return st.commitDestroy()
	}
	if !st.changed() {
		st.touch()
		if st.expireCookie {
			st.setCookie("", false, time.Time{})
		}
		return nil
	}
	switch {
	case st.rec == nil:
		return st.commitNew()
	case st.renew:
		return st.commitRenew()
	default:
		return st.commitUpdate()
	}
}

func (st *state) commitNew() error {
	if st.forwarded != nil && !st.meta.authChange() {
		// The browser most likely sent this before it learnt the renewed
		// token, which it holds by now: a new session's cookie would
		// replace it. A login is let through: it may be the retry of one
		// whose response never arrived, and it renews anyway.
		return st.discard(ErrAuthChanged)
	}
	for range 3 { // a collision of 256-bit random IDs does not happen; bound it anyway
		token, id := newToken()
		rec := st.build(nil, id, 1)
		err := st.m.ops.Commit(st, rec, 0)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			st.cleanup(id) // the create may have landed though its reply was lost
			return st.storeErr("commit", err)
		}
		st.adopt(token, id, rec)
		st.setCookie(token, rec.Persistent, rec.AbsoluteDeadline)
		st.m.event(st, st.r, EventCreated, id, rec.Subject, nil)
		return nil
	}
	return st.storeErr("commit", errors.New("could not create a session with a fresh ID"))
}

func (st *state) commitUpdate() error {
	cookie := st.meta.persistent != nil
	for attempt := 0; ; attempt++ {
		rec := st.build(st.rec, st.id, st.rec.Version+1)
		err := st.m.ops.Commit(st, rec, st.rec.Version)
		if err == nil {
			st.adopt(st.token, st.id, rec)
			if cookie && st.token != "" {
				st.setCookie(st.token, rec.Persistent, rec.AbsoluteDeadline)
			}
			return nil
		}
		if !errors.Is(err, ErrConflict) {
			return st.storeErr("commit", err)
		}
		if err := st.reload(st, attempt); err != nil {
			return err
		}
	}
}

// adopt makes rec, just committed under id, the request's session.
func (st *state) adopt(token, id string, rec *Record) {
	st.token, st.id, st.rec, st.vals, st.renew = token, id, rec, nil, false
	st.owner = ownerOf(rec)
}

// reload fetches the newest version after a conflict and replays the
// request's changes on it, following a renewal to the new ID (see chain.go).
// It discards the changes when the session ended or passed to another
// subject meanwhile.
func (st *state) reload(ctx context.Context, attempt int) error {
	m := st.m
	m.event(st, st.r, EventConflict, st.id, "", nil)
	if attempt >= m.cfg.MaxRetries {
		return ErrTooManyConflicts
	}
	if err := st.backoff(attempt); err != nil {
		return err
	}
	rec, err := m.follow(ctx, st.id, st.owner, st.now())
	switch {
	case errors.Is(err, errGone):
		// The ID left no trace: a logout long ago, an expiry, or a
		// renewal whose forward aged out while this request ran (the
		// request's copy cannot tell: other requests may have touched the
		// session since). The changes cannot be placed, so the request
		// fails rather than acknowledge them, and the browser's cookie,
		// which may be the renewed one, is left alone.
		return st.discard(fmt.Errorf("%w: the session ended or moved on more than Config.RenewGrace ago", ErrAuthChanged))
	case errors.Is(err, ErrDestroyed), errors.Is(err, ErrAuthChanged):
		return st.discard(err)
	case err != nil:
		return st.fail("load", err)
	}
	if rec.ID != st.id {
		// Renewed by another request: the changes go to the new ID. The
		// client learns the new token from that request's response; this
		// one does not know it, and must not set the old one.
		st.id, st.token = rec.ID, ""
	}
	if err := st.replay(rec); err != nil {
		return err
	}
	return st.checkSize(st.values()) // Updates replayed on newer values may have grown them
}

// backoff waits before the next attempt once several commits collided, so
// that many writers on one session stop colliding instead of failing:
// jittered, growing with the square of the attempt, at most 10 ms a wait.
func (st *state) backoff(attempt int) error {
	if attempt < 2 {
		return nil
	}
	d := time.Duration(rand.Int64N(int64(min(time.Duration(attempt*attempt)*50*time.Microsecond, 10*time.Millisecond))))
	select {
	case <-time.After(d):
		return nil
	case <-st.Done():
		return st.storeErr("commit", st.Err())
	}
}

// discard drops the request's changes: the session ended (a logout always
// wins, and the cookie is expired) or passed to another subject (the changes
// must not follow it, and the client keeps whatever cookie it now holds).
func (st *state) discard(reason error) error {
	m := st.m
	m.log.Warn("session: changes discarded", "session", st.id, "reason", reason)
	m.event(st, st.r, EventDiscarded, st.id, "", reason)
	if errors.Is(reason, ErrDestroyed) {
		st.id, st.rec, st.vals = "", nil, nil
		st.setCookie("", false, time.Time{})
	}
	return reason
}

// detached returns a context for work that must outlive a failed request
// (clean-up, checks after a lost reply), bounded on its own.
func (st *state) detached(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(st.Context), d)
}

// cleanup deletes a record this request created but could not use, with a
// context of its own (the request's may be the reason it failed), in the
// background so that a store that hangs does not delay the error response.
func (st *state) cleanup(id string) {
	ctx, cancel := st.detached(2 * time.Second)
	m := st.m
	go func() {
		defer cancel()
		if err := m.ops.Delete(ctx, id); err != nil {
			m.log.Warn("session: clean-up after a failed commit failed; the record expires on its own", "session", id, "err", err)
		}
	}()
}

// touch extends the idle deadline of a session that was read but not
// changed, at most once per TouchInterval. A failed touch is logged, not
// fatal: the request itself succeeded.
func (st *state) touch() {
	rec := st.rec
	if rec == nil {
		return
	}
	m, now := st.m, st.now()
	if now.Sub(rec.LastActive) < m.cfg.TouchInterval {
		if m.cfg.OnEvent != nil {
			m.event(st, st.r, EventTouchAvoided, st.id, rec.Subject, nil)
		}
		return
	}
	idle, _ := m.lifetimes(rec.Persistent)
	deadline := minTime(now.Add(idle), rec.AbsoluteDeadline)
	next := *rec
	next.LastActive, next.IdleDeadline = now, deadline
	var err error
	if m.ops.toucher != nil {
		err = m.ops.Touch(st, st.id, now, deadline)
	} else {
		next.Version++
		err = m.ops.Commit(st, &next, rec.Version)
	}
	switch {
	case err == nil:
		st.rec = &next // a later commit in this request must not touch again
		m.event(st, st.r, EventTouched, st.id, rec.Subject, nil)
	case errors.Is(err, ErrConflict), errors.Is(err, ErrNotFound):
		// Someone else wrote (and so extended it) or ended it meanwhile.
	default:
		m.log.Warn("session: touch failed", "session", st.id, "err", err)
		m.event(st, st.r, EventStoreError, st.id, rec.Subject, err)
	}
}

// storeErr reports a failed store call. A record too large for the store
// is the application's doing, not an outage: it is returned as it is, so the
// error handler answers 500 rather than 503.
func (st *state) storeErr(op string, err error) error {
	if errors.Is(err, ErrTooLarge) {
		st.m.log.Error("session: the store refused the record as too large", "session", st.id, "err", err)
		return fmt.Errorf("session: %s: %w", op, err)
	}
	st.m.log.Error("session: store "+op+" failed", "session", st.id, "err", err)
	st.m.event(st, st.r, EventStoreError, st.id, "", err)
	return &StoreError{Op: op, Err: err}
}

// fail reports an error from a manager step that may be a store failure or
// one of the manager's own verdicts (ErrTooManyConflicts, ErrRenewalChain).
func (st *state) fail(op string, err error) error {
	var se *StoreError
	if errors.As(err, &se) {
		return st.storeErr(op, se.Err)
	}
	st.m.log.Warn("session: "+op+" gave up", "session", st.id, "err", err)
	return err
}
