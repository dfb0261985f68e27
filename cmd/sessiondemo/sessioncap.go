package main

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/sessionkit/session"
)

// The concurrent-session cap: -max-sessions N live sessions per user
// (Config.MaxSessionsPerUser), and -max-sessions-policy for the login that
// would make N+1 (Config.LimitPolicy). With evict-oldest the login signs out
// the user's oldest sessions to make room, and the new session remembers
// which ones, so the devices page can say so; with refuse-new the login is
// refused with a page that says why.

// limitPolicies maps -max-sessions-policy to the library's policies.
var limitPolicies = map[string]session.LimitPolicy{
	"evict-oldest": session.EvictOldest,
	"refuse-new":   session.RefuseNew,
}

// keyEvicted holds the []evictedSession a login signed out to make room,
// newest first, shown on the devices page.
const keyEvicted = "evicted"

// maxEvictedNotes bounds the notes kept in a session.
const maxEvictedNotes = 5

// evictedSession is a session that a login ended to make room.
type evictedSession struct {
	Device  string    `json:"device"` // "Chrome 131 on Linux"
	Addr    string    `json:"addr"`
	Created time.Time `json:"created"`
	Ended   time.Time `json:"ended"`
	Short   string    `json:"id"` // the start of its store ID
}

// evictions collects the store IDs of the sessions that a login evicts: the
// login handler puts one into the context it logs in with, and the event
// hook (observeEvictions) fills it in.
type evictions struct {
	mu  sync.Mutex
	ids []string
}

type evictionsKey struct{}

// observeEvictions is the part of the event hook that fills the login's
// evictions. It runs while the session is locked: it only appends.
func observeEvictions(ctx context.Context, e session.Event) {
	if e.Kind != session.EventEvicted {
		return
	}
	if ev, ok := ctx.Value(evictionsKey{}).(*evictions); ok {
		ev.mu.Lock()
		ev.ids = append(ev.ids, e.ID)
		ev.mu.Unlock()
	}
}

// signInCapped is signIn under the session cap. It lists the user's sessions
// first, when there is a cap, so that it can describe the ones the login
// evicts; it stores their description in the new session and returns how
// many there were. A refused login returns session.ErrLimit.
func (a *app) signInCapped(r *http.Request, u *user, remember bool) (int, error) {
	ctx := r.Context()
	if a.maxSessions == 0 {
		return 0, signIn(ctx, u, remember)
	}
	before, err := a.web.Sessions(ctx, u.Name)
	if err != nil {
		return 0, err
	}
	ev := &evictions{}
	if err := signIn(context.WithValue(ctx, evictionsKey{}, ev), u, remember); err != nil {
		return 0, err
	}
	ev.mu.Lock()
	ids := append([]string(nil), ev.ids...)
	ev.mu.Unlock()
	if len(ids) == 0 {
		return 0, nil
	}
	now := time.Now()
	var notes []evictedSession
	for _, id := range ids {
		n := evictedSession{Ended: now, Short: id[:min(len(id), 12)], Device: "unknown client"}
		for _, m := range before {
			if m.ID == id {
				n.Device, n.Addr, n.Created = summarizeUA(m.UserAgent), m.ClientAddr, m.Created
			}
		}
		notes = append(notes, n)
	}
	_, err = session.Update(ctx, keyEvicted, func(old []evictedSession) ([]evictedSession, error) {
		all := append(notes, old...)
		return all[:min(len(all), maxEvictedNotes)], nil
	})
	return len(ids), err
}
