package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The life of a session's IDs: renewal, destroy, and the forwarding that
// lets a slower request follow a renewal.
//
// Each ID of a session is in one of four states in the store, and moves
// between them only by compare-and-swap on the record's version, so that of
// two requests racing on one version exactly one wins:
//
//	absent ──create──▶ live(v) ──update──▶ live(v+1)
//	                   live(v) ──renew───▶ forwarded(v+1), pointing to a new live ID
//	                   live(v) ──end─────▶ ended(v+1)
//
// Forwarded and ended records are tombstones (Record.Tombstone): they never
// load as a session and expire after Config.RenewGrace. A tombstone keeps the
// subject of the session it replaced.
//
// Two kinds of request follow a forward: one that loaded the session before
// it was renewed and now commits its changes, and a destroy or revoke, which
// must end the session wherever it went. Both follow only while the session
// stays with the owner the request started from (state.owner): a change
// never crosses from one user, or from an anonymous visitor who may have
// planted the ID, to another, and such a visitor cannot end the session a
// login made of it either.
//
// Destroy and revoke end a session by turning its live record into an ended
// tombstone with a compare-and-swap, never by a blind delete: a renewal that
// lands first makes the swap fail and is followed, one that lands after finds
// its own swap failing and gives up. The invariants, each with its test, are
// listed in DESIGN-NOTES.md.

// maxHops bounds the renewals one request follows.
const maxHops = 4

// securityTimeout bounds the store calls of security actions (destroy,
// revoke, renewal, the client-change policy). They run on a context of their
// own, so a client that disconnects cannot stop them half way.
const securityTimeout = 5 * time.Second

// secure returns the context for a security action of the request.
func (st *state) secure() (context.Context, context.CancelFunc) {
	return secureContext(st.Context)
}

// secureContext detaches a security action from its caller's cancellation
// (a client that went away, an admin's cancelled request), so that it does
// not stop half way. It keeps the caller's deadline, which the server chose,
// and is bounded by securityTimeout in any case.
func secureContext(ctx context.Context) (context.Context, context.CancelFunc) {
	timeout := securityTimeout
	if deadline, ok := ctx.Deadline(); ok {
		// At least a second: a logout reached at its deadline still gets
		// its chance.
		timeout = max(min(timeout, time.Until(deadline)), time.Second)
	}
	return context.WithTimeout(context.WithoutCancel(ctx), timeout)
}

// owner is who a session belongs to, as far as following it goes: its
// subject, and whether a client change locked it to the client that was
// logged in (an anonymous visitor is not the owner of such a session).
type owner struct {
	subject string
	locked  bool
}

func ownerOf(rec *Record) owner { return owner{rec.Subject, rec.ClientLocked} }

// errGone: the ID is absent. Its session ended, expired or moved on longer
// ago than a tombstone lasts (Config.RenewGrace), and which of them can no
// longer be told. It is an ErrDestroyed.
var errGone = fmt.Errorf("%w (it left no trace)", ErrDestroyed)

// follow loads the session at id, following renewals, up to the first live
// record. It returns ErrDestroyed when the session ended (or expired; errGone
// when it left no trace),
// ErrAuthChanged when the live record has another owner than own, and
// ErrRenewalChain after maxHops renewals.
func (m *Manager) follow(ctx context.Context, id string, own owner, now time.Time) (*Record, error) {
	return m.followHops(ctx, id, own, now, maxHops)
}

// followHops is follow with its own bound on the renewals it follows.
func (m *Manager) followHops(ctx context.Context, id string, own owner, now time.Time, limit int) (*Record, error) {
	for hops := 0; ; hops++ {
		rec, err := m.ops.Load(ctx, id)
		switch {
		case errors.Is(err, ErrNotFound): // ErrExpired too: a tombstone past its grace is expired
			return nil, errGone
		case err != nil:
			return nil, &StoreError{Op: "load", Err: err}
		case rec.Ended:
			return nil, ErrDestroyed
		case rec.RenewedTo != "":
			if hops == limit {
				return nil, ErrRenewalChain
			}
			id = rec.RenewedTo
			continue
		case !live(rec, now):
			return nil, ErrDestroyed
		case ownerOf(rec) != own:
			return nil, ErrAuthChanged
		}
		return rec, nil
	}
}

// end ends the session at id, or where renewals that kept its owner moved
// it, by turning its live record into an ended tombstone. rec is the record
// at id as the caller last saw it, or nil to load it. It returns the record it
// ended, or nil when nothing of own was alive there any more.
func (m *Manager) end(ctx context.Context, id string, own owner, rec *Record, now time.Time) (*Record, error) {
	hops := 0
	for attempt := 0; ; attempt++ {
		if rec == nil {
			got, err := m.ops.Load(ctx, id)
			switch {
			case errors.Is(err, ErrNotFound):
				return nil, nil
			case err != nil:
				return nil, &StoreError{Op: "load", Err: err}
			case got.Ended:
				return nil, nil
			case got.RenewedTo != "":
				if hops++; hops > maxHops {
					return nil, ErrRenewalChain
				}
				id = got.RenewedTo
				continue
			case !live(got, now), ownerOf(got) != own:
				// Expired, or moved to another user: not this session.
				return nil, nil
			}
			rec = got
		}
		tomb := tombstoneOf(rec, now, m.cfg.RenewGrace)
		tomb.Ended = true
		err := m.ops.Commit(ctx, tomb, rec.Version)
		if err == nil {
			return rec, nil
		}
		if !errors.Is(err, ErrConflict) {
			return nil, &StoreError{Op: "commit", Err: err}
		}
		if attempt >= m.cfg.MaxRetries {
			return nil, ErrTooManyConflicts
		}
		rec = nil
	}
}

// tombstoneOf is what rec's ID becomes when its session moves or ends: no
// values, the subject kept (so a follower can tell a change of user), and
// RenewGrace to live.
func tombstoneOf(rec *Record, now time.Time, grace time.Duration) *Record {
	return &Record{
		ID: rec.ID, Version: rec.Version + 1, Subject: rec.Subject, ClientLocked: rec.ClientLocked, Created: rec.Created, LastActive: now,
		IdleDeadline: now.Add(grace), AbsoluteDeadline: minTime(rec.AbsoluteDeadline, now.Add(grace)),
	}
}

// commitDestroy ends the session: the one the request loaded, or the one
// its token was forwarded to by a renewal the client had not yet heard of.
func (st *state) commitDestroy() error {
	id, own, rec := st.id, st.owner, st.rec
	if id == "" && st.forwarded != nil {
		id, own, rec = st.forwarded.ID, ownerOf(st.forwarded), nil
	}
	if id != "" {
		ctx, cancel := st.secure()
		defer cancel()
		ended, err := st.m.end(ctx, id, own, rec, st.now())
		if err != nil {
			return st.fail("destroy", err)
		}
		if ended != nil {
			st.m.event(st, st.r, EventDestroyed, ended.ID, ended.Subject, nil)
		}
	}
	if id != "" || st.expireCookie {
		st.setCookie("", false, time.Time{})
		if st.m.cfg.ClearSiteData {
			st.w.Header().Set("Clear-Site-Data", `"cookies"`)
		}
	}
	st.id, st.rec, st.vals, st.forwarded = "", nil, nil, nil
	return nil
}

// commitRenew moves the session to a new ID: it creates the successor with
// the request's changes, then forwards the old ID to it by compare-and-swap.
// When the swap loses to a concurrent commit, the successor is dropped and
// the renewal starts again on the newer version, wherever it now is.
func (st *state) commitRenew() error {
	m := st.m
	ctx, cancel := st.secure()
	defer cancel()
	for attempt := 0; ; attempt++ {
		base := st.rec
		token, id := newToken()
		next := st.build(base, id, 1)
		next.ClientAddr, next.UserAgent = st.client()
		if err := m.ops.Commit(ctx, next, 0); err != nil {
			st.cleanup(id) // the create may have landed though its reply was lost
			return st.storeErr("commit", err)
		}
		err := m.ops.Commit(ctx, forwardOf(base, st.now(), m.cfg.RenewGrace, id), base.Version)
		if errors.Is(err, ErrConflict) {
			st.cleanup(id)
			if err := st.reload(ctx, attempt); err != nil {
				return err
			}
			if st.id != base.ID && !st.meta.authChange() {
				// Another request renewed it first and this one changes no
				// login: its changes join that renewal, whose response
				// carries the cookie. A second new ID would strand the
				// browser on whichever cookie it received first.
				st.renew = false
				return st.commitUpdate()
			}
			continue // a login always gets an ID of its own
		}
		if err != nil {
			switch st.renewalLanded(base, id) {
			case landedNo:
				st.cleanup(id)
				return st.storeErr("commit", err)
			case landedUnknown:
				// The store cannot tell. Hand over the new token with the
				// error, so that a renewal that did land loses nothing, and
				// settle the old ID in the background.
				st.adopt(token, id, next)
				st.setCookie(token, next.Persistent, next.AbsoluteDeadline)
				st.keepCookie = true
				st.settle(base, next)
				return st.storeErr("commit", err)
			}
			// landedYes: only the reply was lost.
		}
		st.adopt(token, id, next)
		st.setCookie(token, next.Persistent, next.AbsoluteDeadline)
		m.event(st, st.r, EventRenewed, id, next.Subject, nil)
		return nil
	}
}

// forwardOf is the tombstone that forwards rec's ID to next.
func forwardOf(rec *Record, now time.Time, grace time.Duration, next string) *Record {
	tomb := tombstoneOf(rec, now, grace)
	tomb.RenewedTo = next
	return tomb
}

type landed int

const (
	landedUnknown landed = iota
	landedYes
	landedNo
)

// renewalLanded finds out whether the forward from old to newID was stored,
// after a commit that failed without a verdict (a lost reply, a deadline). A
// record that is gone, at another version or anything but that forward means
// it did not land: the request then fails, and the old ID, if untouched,
// keeps the session.
func (st *state) renewalLanded(old *Record, newID string) landed {
	ctx, cancel := st.detached(time.Second)
	defer cancel()
	rec, err := st.m.ops.Load(ctx, old.ID)
	switch {
	case err == nil && rec.RenewedTo == newID:
		return landedYes
	case err == nil, errors.Is(err, ErrNotFound):
		return landedNo
	}
	return landedUnknown
}

// A renewal of unknown outcome is settled in the background for as long as
// the old ID could still open a session: until its deadline, at least
// settleTimeout. Attempts back off up to settleMaxBackoff. At most
// maxSettling renewals are settled at once, so that a long outage that fails
// many renewals holds a bounded number of goroutines.
const (
	settleTimeout    = 10 * time.Second
	settleMaxBackoff = 5 * time.Second
	maxSettling      = 1024
	settleMaxHops    = 1000
)

// settle completes, in the background, a renewal whose outcome the store
// could not tell. The client already holds the new token, so the session
// must end up at the new ID, with the old one forwarding to it. Until then
// both IDs are live, and requests on either may be acknowledged: a request
// still holding the old cookie, and the browser on the new one. settle
// carries the first kind into the successor (mergeValues) before it forwards
// the old ID, so neither is lost, unless both changed one key: then the
// browser's value wins and the loss is reported (EventDiscarded). Nothing
// crosses a login or logout that the renewal made. If the old ID ended,
// changed owner or was renewed by another request meanwhile, that fate wins
// over a renewal nobody confirmed, and the successor is ended instead: a
// logout that raced it stays a logout.
//
// settle does not give up while the old ID may still open a session: two
// live, unlinked IDs would let a logout on one leave the other logged in.
// Only more than maxSettling renewals pending at once are abandoned, and
// logged.
func (st *state) settle(base, next *Record) {
	m := st.m
	if m.settling.Add(1) > maxSettling {
		m.settling.Add(-1)
		m.log.Error("session: too many renewals of unknown outcome to settle; both IDs stay live until they expire", "session", next.ID)
		return
	}
	wait := max(base.Expires().Sub(m.now()), settleTimeout)
	ctx, cancel := st.detached(wait)
	base, next = new(*base), new(*next) // settleOnce moves them on; the request keeps its own
	go func() {
		defer m.settling.Add(-1)
		defer cancel()
		backoff := 100 * time.Millisecond
		for {
			err := m.settleOnce(ctx, base, next)
			if err == nil {
				return
			}
			select {
			case <-ctx.Done():
				m.log.Warn("session: could not settle a renewal before the old ID expired", "session", next.ID, "err", err)
				return
			case <-time.After(backoff):
				backoff = min(2*backoff, settleMaxBackoff)
			}
		}
	}()
}

// settleOnce makes one attempt at settling the renewal from base to next
// (see settle). On success of a merge it moves base and next on to the
// states it merged, so that a later attempt carries only what changed since.
func (m *Manager) settleOnce(ctx context.Context, base, next *Record) error {
	now := m.now()
	cur, err := m.ops.Load(ctx, base.ID)
	switch {
	case err == nil && cur.RenewedTo == next.ID:
		return nil // it had landed
	case err != nil && !errors.Is(err, ErrNotFound):
		return &StoreError{Op: "load", Err: err}
	case errors.Is(err, ErrExpired), err != nil && !now.Before(base.Expires()):
		// The old ID expired (a store that removes expired keys cannot
		// say so, but its deadline as of the renewal has passed): it
		// opens nothing any more, and the browser's session lives on. An
		// end on the old ID meanwhile would have left a tombstone that
		// settle, polling every few seconds, finds well within its grace.
		return nil
	case err != nil, cur.Tombstone(), ownerOf(cur) != ownerOf(base):
		_, err := m.end(ctx, next.ID, ownerOf(next), nil, now)
		return err
	}
	target := next.ID
	// The browser may have renewed many times on the new ID meanwhile:
	// settle, unlike a request, follows as far as it has to.
	dst, err := m.followHops(ctx, next.ID, ownerOf(next), now, settleMaxHops)
	switch {
	case errors.Is(err, ErrDestroyed):
		// The browser logged out on the new ID: the old one ends with it.
		_, err := m.end(ctx, base.ID, ownerOf(base), cur, now)
		return err
	case errors.Is(err, ErrAuthChanged):
		// The browser logged in or out on the new ID: nothing of the old
		// session's crosses that, but the old ID must still forward, so
		// that a stale request on it finds the change.
	case err != nil:
		return err
	case ownerOf(base) != ownerOf(next):
		// A login (or logout) renewal: what the old ID took meanwhile
		// came from whoever holds it, perhaps an attacker who planted it,
		// and must not cross into the new owner's session.
		target = dst.ID
	default:
		target = dst.ID
		merged, changed, lost := mergeValues(base.Values, cur.Values, next.Values, dst.Values)
		if lost > 0 {
			// Both IDs took a change of the same key while the renewal was
			// unsettled: the browser's is kept, the other may be lost.
			m.log.Warn("session: settling a renewal kept the new ID's value of keys both IDs changed; the old ID's changes to them may be lost", "session", dst.ID, "keys", lost)
			m.event(ctx, nil, EventDiscarded, base.ID, base.Subject, ErrConflict)
		}
		if changed {
			upd := *dst
			upd.Version, upd.Values = dst.Version+1, merged
			if n := encodedSize(&upd); n > m.cfg.MaxRecordBytes {
				// Both sides fit on their own, but not together: the
				// browser's side is kept, and the size bound holds.
				m.log.Warn("session: settling a renewal would exceed Config.MaxRecordBytes; the old ID's changes are dropped", "session", dst.ID, "bytes", n)
			} else {
				if err := m.ops.Commit(ctx, &upd, dst.Version); err != nil {
					return err
				}
				*base, *next = *cur, upd
			}
		}
	}
	return m.ops.Commit(ctx, forwardOf(cur, now, m.cfg.RenewGrace, target), cur.Version)
}

// mergeValues carries into mine the keys that theirs changed since base,
// except the keys that mine changed since fork: of two changes to one key,
// the one made on the ID the browser holds wins. It reports whether it
// changed anything, and how many keys changed on both sides (where the
// change on theirs may be lost: equal values can be two increments).
func mergeValues(base, theirs, fork, mine []Value) ([]Value, bool, int) {
	baseOf, theirsOf, forkOf, mineOf := valueMap(base), valueMap(theirs), valueMap(fork), valueMap(mine)
	changed, lost := false, 0
	seen := make(map[string]bool, len(theirsOf))
	for _, keys := range []map[string][]byte{baseOf, theirsOf} {
		for k := range keys {
			if seen[k] {
				continue
			}
			seen[k] = true
			if sameValue(baseOf, theirsOf, k) {
				continue // unchanged there
			}
			if !sameValue(forkOf, mineOf, k) {
				// Changed on both sides. Even to equal values: two
				// increments from 1 both give 2, and one of them is lost.
				lost++
				continue
			}
			if sameValue(mineOf, theirsOf, k) {
				continue
			}
			if t, ok := theirsOf[k]; ok {
				mineOf[k] = t
			} else {
				delete(mineOf, k)
			}
			changed = true
		}
	}
	if !changed {
		return mine, false, lost
	}
	out := make([]Value, 0, len(mineOf))
	for k, d := range mineOf {
		out = append(out, Value{Key: k, Data: d})
	}
	slices.SortFunc(out, func(a, b Value) int { return strings.Compare(a.Key, b.Key) })
	return out, true, lost
}

func valueMap(vals []Value) map[string][]byte {
	m := make(map[string][]byte, len(vals))
	for _, v := range vals {
		m[v.Key] = v.Data
	}
	return m
}

// sameValue reports whether a and b agree on k: both without it, or both
// with the same bytes.
func sameValue(a, b map[string][]byte, k string) bool {
	x, okx := a[k]
	y, oky := b[k]
	return okx == oky && bytes.Equal(x, y)
}
