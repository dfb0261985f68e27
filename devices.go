package session

import (
	"context"
	"errors"
	"fmt"
)

// Per-user control: "your devices", log out everywhere, concurrent-session
// limits. These need a store with a SubjectIndex (memstore, sqlitestore,
// redisstore, pgstore, mysqlstore); with one that has none (memcachedstore)
// they return ErrUnsupported.

// LimitPolicy says what happens when a user with MaxSessionsPerUser sessions
// logs in once more.
type LimitPolicy int

const (
	// EvictOldest ends the user's oldest sessions to make room: the new login
	// always succeeds. The default.
	EvictOldest LimitPolicy = iota
	// RefuseNew refuses the new login with ErrLimit until the user logs out
	// elsewhere or a session expires.
	RefuseNew
)

func (m *Manager) index() (SubjectIndex, error) {
	idx, ok := m.store.(SubjectIndex)
	if !ok {
		return nil, fmt.Errorf("%w: the store has no subject index", ErrUnsupported)
	}
	return idx, nil
}

// Sessions lists the live sessions of subject, oldest first.
func (m *Manager) Sessions(ctx context.Context, subject string) ([]Metadata, error) {
	idx, err := m.index()
	if err != nil {
		return nil, err
	}
	recs, err := m.ops.ListSubject(ctx, idx, subject)
	if err != nil {
		return nil, &StoreError{Op: "list", Err: err}
	}
	now := m.now()
	list := make([]Metadata, 0, len(recs))
	for _, rec := range recs {
		if live(rec, now) {
			list = append(list, metadataOf(rec))
		}
	}
	return list, nil
}

// RevokeSubject ends every session of subject (an account disabled, a
// password reset) and reports how many it ended.
func (m *Manager) RevokeSubject(ctx context.Context, subject string) (int, error) {
	return m.revokeWhere(ctx, subject, func(Metadata) bool { return true })
}

// RevokeOthers ends every session of subject but the one with store ID keep,
// or the one renewals moved it to (after a password change, "sign out all
// other devices").
func (m *Manager) RevokeOthers(ctx context.Context, subject, keep string) (int, error) {
	return m.revokeWhere(ctx, subject, func(s Metadata) bool {
		if s.ID == keep {
			return false
		}
		// A renewal since the caller read keep moved it on: the session
		// to keep is where the renewals lead, which a listing shows.
		keep = m.successor(ctx, keep)
		return s.ID != keep
	})
}

// successor returns the ID that renewals moved the session at id to, or id
// when it has not moved (or the store cannot tell: the caller then keeps
// less, never more).
func (m *Manager) successor(ctx context.Context, id string) string {
	for range maxHops {
		rec, err := m.ops.Load(ctx, id)
		if err != nil || rec.RenewedTo == "" {
			break
		}
		id = rec.RenewedTo
	}
	return id
}

// revokeWhere ends the sessions of subject that match, wherever renewals
// move them meanwhile. It lists again after ending them, so that a session
// renewed or created between the list and the end does not slip through; a
// login that completes after it returned is a new login.
func (m *Manager) revokeWhere(ctx context.Context, subject string, match func(Metadata) bool) (int, error) {
	if subject == "" {
		return 0, errors.New("session: empty subject")
	}
	ctx, cancel := secureContext(ctx)
	defer cancel()
	n := 0
	for round := 0; round < 3; round++ {
		list, err := m.Sessions(ctx, subject)
		if err != nil {
			return n, err
		}
		ended := 0
		for _, s := range list {
			if !match(s) {
				continue
			}
			rec, err := m.end(ctx, s.ID, owner{subject: subject}, nil, m.now())
			if err != nil {
				return n, err
			}
			if rec != nil {
				m.event(ctx, nil, EventRevoked, rec.ID, subject, nil)
				n++
				ended++
			}
		}
		if ended == 0 {
			break
		}
	}
	return n, nil
}

// Revoke ends the session with store ID id, wherever renewals that kept its
// user moved it.
func (m *Manager) Revoke(ctx context.Context, id string) error {
	ctx, cancel := secureContext(ctx)
	defer cancel()
	rec, err := m.ops.Load(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil
	case err != nil:
		return &StoreError{Op: "load", Err: err}
	}
	if rec.Ended {
		return nil
	}
	own := ownerOf(rec) // a forward keeps the owner of the session it moved
	if rec.Tombstone() {
		rec = nil // end follows the forward from the ID itself
	}
	ended, err := m.end(ctx, id, own, rec, m.now())
	if err != nil {
		return err
	}
	if ended != nil {
		m.event(ctx, nil, EventRevoked, ended.ID, ended.Subject, nil)
	}
	return nil
}

// enforceLimit makes room for one more session of subject, or refuses it. The
// check and the login are not one atomic step: logins racing each other may
// exceed the limit by their number until the next login of that user.
func (m *Manager) enforceLimit(ctx context.Context, subject, current string) error {
	max := m.cfg.MaxSessionsPerUser
	if max == 0 || subject == "" {
		return nil
	}
	list, err := m.Sessions(ctx, subject)
	if err != nil {
		return err
	}
	others := list[:0]
	for _, s := range list {
		if s.ID != current {
			others = append(others, s)
		}
	}
	excess := len(others) - (max - 1)
	if excess <= 0 {
		return nil
	}
	if m.cfg.LimitPolicy == RefuseNew {
		m.event(ctx, nil, EventLimit, "", subject, ErrLimit)
		return ErrLimit
	}
	ctx, cancel := secureContext(ctx)
	defer cancel()
	for _, s := range others[:excess] { // oldest first
		rec, err := m.end(ctx, s.ID, owner{subject: subject}, nil, m.now())
		if err != nil {
			return err
		}
		if rec != nil {
			m.event(ctx, nil, EventEvicted, rec.ID, subject, nil)
		}
	}
	return nil
}

// Devices lists the sessions of the current user, oldest first, with the
// current one marked: the "your devices" page.
func Devices(ctx context.Context) ([]Metadata, error) {
	st, subject, err := current(ctx)
	if err != nil || subject == "" {
		return nil, err
	}
	list, err := st.m.Sessions(ctx, subject)
	if err != nil {
		return nil, err
	}
	for i := range list {
		list[i].Current = list[i].ID == st.currentID()
	}
	return list, nil
}

// RevokeDevice ends one of the current user's own sessions. An ID that is not
// one of theirs is refused with ErrNotFound, so a user cannot end another
// user's session by guessing its ID. Revoking the current session is
// Destroy's job.
func RevokeDevice(ctx context.Context, id string) error {
	list, err := Devices(ctx)
	if err != nil {
		return err
	}
	for _, s := range list {
		if s.ID == id && !s.Current {
			st, _ := from(ctx)
			return st.m.Revoke(ctx, id)
		}
	}
	return ErrNotFound
}

// RevokeOtherDevices ends every session of the current user but this one
// (after a password change) and reports how many it ended.
func RevokeOtherDevices(ctx context.Context) (int, error) {
	st, subject, err := current(ctx)
	if err != nil || subject == "" {
		return 0, err
	}
	return st.m.RevokeOthers(ctx, subject, st.currentID())
}

// current returns the request's state and its committed subject.
func current(ctx context.Context) (*state, string, error) {
	st, err := lock(ctx)
	if err != nil {
		return nil, "", err
	}
	defer st.mu.Unlock()
	if st.rec == nil {
		return st, "", nil
	}
	return st, st.rec.Subject, nil
}

func (st *state) currentID() string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.id
}

func metadataOf(rec *Record) Metadata {
	return Metadata{
		ID: rec.ID, Subject: rec.Subject, Created: rec.Created, LastActive: rec.LastActive,
		AuthTime: rec.AuthTime, IdleDeadline: rec.IdleDeadline, AbsoluteDeadline: rec.AbsoluteDeadline,
		Persistent: rec.Persistent, ClientAddr: rec.ClientAddr, UserAgent: rec.UserAgent,
	}
}
