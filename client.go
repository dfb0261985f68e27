package session

import (
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
	// ClientChangeReauth ends the login but keeps the session and its data:
	// the subject and auth time are cleared and the ID renewed, so the user
	// must log in again (a cart survives).
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

// checkClient applies Config.ClientChange to a loaded, logged-in session.
// The caller holds st.mu. It reports whether the session may still be used.
func (st *state) checkClient(rec *Record) bool {
	if rec.Subject == "" {
		return true
	}
	addr, ua := clientOf(st.r)
	if !clientChanged(rec, addr, ua) {
		return true
	}
	m := st.m
	m.event(st, st.r, EventClientChanged, rec.ID, rec.Subject, nil)
	switch m.cfg.ClientChange {
	case ClientChangeDestroy:
		if err := m.ops.Delete(st, rec.ID); err != nil {
			m.log.Warn("session: delete after a client change failed", "session", rec.ID, "err", err)
		}
		m.event(st, st.r, EventDestroyed, rec.ID, rec.Subject, nil)
		st.clear = true
		return false
	case ClientChangeReauth:
		empty := ""
		st.renew, st.meta.subject, st.meta.logout = true, &empty, true
	}
	return true
}

// authAge is how long ago the session's user authenticated.
func authAge(rec *Record, now time.Time) (time.Duration, bool) {
	if rec == nil || rec.Subject == "" || rec.AuthTime.IsZero() {
		return 0, false
	}
	return now.Sub(rec.AuthTime), true
}
