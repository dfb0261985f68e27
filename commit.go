package session

import (
	"context"
	"errors"
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
	logout     bool // AuthTime cleared: the login ends, the session stays
	persistent *bool
}

func (m metaOps) any() bool { return m.subject != nil || m.login || m.logout || m.persistent != nil }

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
	} else {
		rec.Created = now
		rec.ClientAddr, rec.UserAgent = clientOf(st.r)
	}
	if st.meta.subject != nil {
		rec.Subject = *st.meta.subject
	}
	if st.meta.login {
		rec.AuthTime = now
		rec.ClientAddr, rec.UserAgent = clientOf(st.r)
	}
	if st.meta.logout {
		rec.AuthTime = time.Time{}
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
	rec.IdleDeadline = minTime(now.Add(idle), rec.AbsoluteDeadline)
	vals := st.values()
	if len(vals) > 0 {
		rec.Values = vals
	}
	return rec
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
	switch {
	case st.destroy:
		return st.commitDestroy()
	case !st.changed():
		st.touch()
		if st.clear {
			st.setCookie("", false, time.Time{})
		}
		return nil
	case st.rec == nil:
		return st.commitNew()
	case st.renew:
		return st.commitRenew()
	default:
		return st.commitUpdate()
	}
}

func (st *state) commitDestroy() error {
	if st.id != "" {
		if err := st.m.ops.Delete(st, st.id); err != nil {
			return st.storeErr("delete", err)
		}
		st.m.event(st, st.r, EventDestroyed, st.id, st.rec.Subject, nil)
	}
	if st.id != "" || st.clear {
		st.setCookie("", false, time.Time{})
		if st.m.cfg.ClearSiteData {
			st.w.Header().Set("Clear-Site-Data", `"cookies"`)
		}
	}
	st.id, st.rec, st.vals = "", nil, nil
	return nil
}

func (st *state) commitNew() error {
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
		st.token, st.id, st.rec, st.vals = token, id, rec, nil
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
			st.rec, st.vals = rec, nil
			if cookie && st.token != "" {
				st.setCookie(st.token, rec.Persistent, rec.AbsoluteDeadline)
			}
			return nil
		}
		if !errors.Is(err, ErrConflict) {
			return st.storeErr("commit", err)
		}
		if err := st.reload(attempt); err != nil {
			return err
		}
	}
}

// reload fetches the newest version after a conflict and replays the
// request's changes on it, following a renewal to the new ID.
func (st *state) reload(attempt int) error {
	m := st.m
	m.event(st, st.r, EventConflict, st.id, "", nil)
	if attempt >= m.cfg.MaxRetries {
		return ErrTooManyConflicts
	}
	if attempt >= 2 {
		// Many writers on one session: back off, with jitter, so that they
		// stop colliding instead of failing; capped so one request waits at
		// most about half a second in all.
		d := time.Duration(rand.Int64N(int64(min(time.Duration(attempt*attempt)*50*time.Microsecond, 10*time.Millisecond))))
		select {
		case <-time.After(d):
		case <-st.Done():
			return st.storeErr("commit", st.Err())
		}
	}
	for hops := 0; ; hops++ {
		rec, err := m.ops.Load(st, st.id)
		if errors.Is(err, ErrNotFound) || (err == nil && !live(rec, st.now()) && rec.RenewedTo == "") || hops > 3 {
			return st.discard()
		}
		if err != nil {
			return st.storeErr("load", err)
		}
		if rec.RenewedTo != "" {
			// Renewed by another request: the changes go to the new ID. The
			// client learns the new token from that request's response;
			// this one does not know it, and must not set the old one.
			st.id, st.token = rec.RenewedTo, ""
			continue
		}
		return st.replay(rec)
	}
}

// discard drops the request's changes: the session was destroyed by another
// request, and a logout always wins.
func (st *state) discard() error {
	m := st.m
	m.log.Warn("session: changes discarded: the session was destroyed by another request", "session", st.id)
	m.event(st, st.r, EventDiscarded, st.id, "", ErrDestroyed)
	st.id, st.rec, st.vals = "", nil, nil
	st.setCookie("", false, time.Time{})
	return ErrDestroyed
}

// commitRenew moves the session to a new ID: the new record is created
// first, then the old one becomes a tombstone pointing to it, by
// compare-and-swap. A request that commits to the old ID in between makes
// the swap fail; its changes are then folded into the new record.
func (st *state) commitRenew() error {
	m := st.m
	token, id := newToken()
	next := st.build(st.rec, id, 1)
	next.ClientAddr, next.UserAgent = clientOf(st.r)
	if err := m.ops.Commit(st, next, 0); err != nil {
		st.cleanup(id) // the create may have landed though its reply was lost
		return st.storeErr("commit", err)
	}
	for attempt := 0; ; attempt++ {
		old := st.rec
		now := st.now()
		tomb := &Record{
			ID: old.ID, Version: old.Version + 1, Created: old.Created, LastActive: now,
			IdleDeadline: now.Add(m.cfg.RenewGrace), AbsoluteDeadline: minTime(old.AbsoluteDeadline, now.Add(m.cfg.RenewGrace)),
			RenewedTo: id,
		}
		err := m.ops.Commit(st, tomb, old.Version)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrConflict) {
			switch st.renewalLanded(old, id) {
			case landedYes:
				// Only the reply was lost: the renewal is complete.
				err = nil
			case landedNo:
				st.cleanup(id)
				return st.storeErr("commit", err)
			case landedUnknown:
				// The store cannot tell. If the tombstone landed, the old
				// cookie opens nothing and only the new one reaches the
				// data: send it with the error so the session is not lost,
				// and try to kill the old ID in case the tombstone did not
				// land.
				st.setCookie(token, next.Persistent, next.AbsoluteDeadline)
				st.keepCookie = true
				st.cleanup(old.ID)
				st.token, st.id, st.rec, st.vals, st.renew = token, id, next, nil, false
				return st.storeErr("commit", err)
			}
			if err == nil {
				break
			}
		}
		oldID := st.id
		if err := st.reload(attempt); err != nil {
			st.cleanup(id)
			return err
		}
		if st.id != oldID {
			// Another request renewed it first: ours is not needed; commit
			// the changes to theirs.
			st.cleanup(id)
			st.renew = false
			return st.commitUpdate()
		}
		upd := st.build(st.rec, id, next.Version+1)
		upd.ClientAddr, upd.UserAgent = next.ClientAddr, next.UserAgent
		if err := m.ops.Commit(st, upd, next.Version); err != nil {
			st.cleanup(id)
			return st.storeErr("commit", err)
		}
		next = upd
	}
	st.token, st.id, st.rec, st.vals, st.renew = token, id, next, nil, false
	st.setCookie(token, next.Persistent, next.AbsoluteDeadline)
	m.event(st, st.r, EventRenewed, id, next.Subject, nil)
	return nil
}

type landed int

const (
	landedUnknown landed = iota
	landedYes
	landedNo
)

// renewalLanded finds out whether the tombstone turning old into a pointer to
// newID was stored, after a commit that failed without a verdict (a lost
// reply, a deadline). A record that is gone or at another version means the
// tombstone did not land; the request then fails and the old ID, untouched,
// keeps the session.
func (st *state) renewalLanded(old *Record, newID string) landed {
	ctx, cancel := st.detached(time.Second)
	defer cancel()
	rec, err := st.m.ops.Load(ctx, old.ID)
	switch {
	case err == nil && rec.RenewedTo == newID:
		return landedYes
	case err == nil && rec.Version == old.Version:
		return landedNo
	case err == nil, errors.Is(err, ErrNotFound):
		return landedNo
	}
	return landedUnknown
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

func (st *state) storeErr(op string, err error) error {
	st.m.log.Error("session: store "+op+" failed", "session", st.id, "err", err)
	st.m.event(st, st.r, EventStoreError, st.id, "", err)
	return &StoreError{Op: op, Err: err}
}
