package session

import (
	"context"
	"errors"
	"net/netip"
	"time"
)

// ClientChangePolicy says what to do when a logged-in session is used by a
// client that does not look like the one that logged in.
type ClientChangePolicy int

const (
	// ClientChangeLog reports EventClientChanged and carries on: addresses
	// change legitimately (mobile networks, VPNs), so this is the default.
	ClientChangeLog ClientChangePolicy = iota
	// ClientChangeReauth distrusts the changed client and ends the login,
	// keeping the data for the client that logged in: the request that
	// shows the change is served as anonymous (no data, no user, no recent
	// authentication, its cookie expired), while the stored session is
	// logged out in place, keeps its data and is locked to the recorded
	// client (Record.ClientLocked). The user, still on that client, keeps
	// the cart and logs in again; the changed client never reads it.
	ClientChangeReauth
	// ClientChangeDestroy ends the session.
	ClientChangeDestroy
)

// clientChanged reports whether the request comes from a client other than
// the one recorded at login: another user agent, or an address outside the
// recorded one's network (/16 for IPv4, /32 for IPv6; finer prefixes would
// flag every mobile handover).
func clientChanged(rec *Record, addr, userAgent string) bool {
	if rec.UserAgent != userAgent {
		return true
	}
	a, err1 := netip.ParseAddr(rec.ClientAddr)
	b, err2 := netip.ParseAddr(addr)
	if err1 != nil || err2 != nil {
		return rec.ClientAddr != addr
	}
	a, b = a.Unmap(), b.Unmap()
	if a.Is4() != b.Is4() {
		return true
	}
	bits := 32
	if a.Is4() {
		bits = 16
	}
	pa, _ := a.Prefix(bits)
	pb, _ := b.Prefix(bits)
	return pa != pb
}

// checkClient applies Config.ClientChange to a loaded session that is
// logged in or locked to its client. The caller holds st.mu. It reports
// whether the request may use the session; when it may not, the request is
// served as anonymous from the start, so that nothing it reads (data, user,
// auth time, devices) comes from the distrusted session.
func (st *state) checkClient(rec *Record) bool {
	if rec.Subject == "" && !rec.ClientLocked {
		return true
	}
	addr, ua := st.client()
	if !clientChanged(rec, addr, ua) {
		return true
	}
	m := st.m
	m.event(st, st.r, EventClientChanged, rec.ID, rec.Subject, nil)
	if rec.Subject == "" {
		return false // locked to the client that was logged in: not this one
	}
	switch m.cfg.ClientChange {
	case ClientChangeDestroy:
		ctx, cancel := st.secure()
		defer cancel()
		if _, err := m.end(ctx, rec.ID, ownerOf(rec), rec, st.now()); err != nil {
			m.log.Warn("session: ending a session after a client change failed", "session", rec.ID, "err", err)
			return false
		}
		m.event(st, st.r, EventDestroyed, rec.ID, rec.Subject, nil)
		return false
	case ClientChangeReauth:
		ctx, cancel := st.secure()
		defer cancel()
		if err := m.logOutInPlace(ctx, rec, st.now()); err != nil {
			m.log.Warn("session: ending a login after a client change failed", "session", rec.ID, "err", err)
		}
		return false
	}
	return true
}

// logOutInPlace ends the login of rec's session without moving it to a new
// ID (the client that logged in is not part of this request, so it could not
// be handed one): the subject and auth time are cleared and the session is
// locked to its recorded client. Requests that loaded it logged in then find
// their changes discarded (ErrAuthChanged).
func (m *Manager) logOutInPlace(ctx context.Context, rec *Record, now time.Time) error {
	subject := rec.Subject
	for attempt := 0; ; attempt++ {
		next := *rec
		next.Version++
		next.Subject, next.AuthTime, next.ClientLocked = "", time.Time{}, true
		err := m.ops.Commit(ctx, &next, rec.Version)
		if err == nil {
			m.event(ctx, nil, EventRevoked, rec.ID, subject, nil)
			return nil
		}
		if !errors.Is(err, ErrConflict) {
			return err
		}
		if attempt >= m.cfg.MaxRetries {
			return ErrTooManyConflicts
		}
		// Follow a renewal that landed meanwhile: the login must end
		// wherever it went.
		rec, err = m.follow(ctx, rec.ID, owner{subject: subject}, now)
		switch {
		case errors.Is(err, ErrDestroyed), errors.Is(err, ErrAuthChanged):
			return nil // ended or logged out meanwhile
		case err != nil:
			return err
		}
	}
}

// authAge is how long ago the session's user authenticated.
func authAge(rec *Record, now time.Time) (time.Duration, bool) {
	if rec == nil || rec.Subject == "" || rec.AuthTime.IsZero() {
		return 0, false
	}
	return now.Sub(rec.AuthTime), true
}
