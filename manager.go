package session

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"
)

// Manager loads, commits and expires sessions for the requests served by its
// middleware. Create one per application with New; it is safe for concurrent
// use.
type Manager struct {
	store Store
	ops   ops
	cfg   Config
	log   *slog.Logger
	now   func() time.Time

	settling atomic.Int32 // renewals of unknown outcome being settled (chain.go)
}

// New returns a Manager for store. It fails when cfg contradicts itself (a
// __Host- cookie without Secure, an idle timeout longer than the absolute
// one, ...); the zero Config is valid and secure.
func New(store Store, cfg Config) (*Manager, error) {
	if store == nil {
		return nil, errors.New("session: nil store")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m := &Manager{store: store, cfg: cfg, log: cfg.Logger, now: cfg.Now}
	toucher, _ := store.(Toucher)
	m.ops = ops{store: store, toucher: toucher, observe: cfg.OnStoreOp}
	if _, ok := store.(SubjectIndex); !ok && cfg.MaxSessionsPerUser > 0 {
		return nil, errors.New("session: MaxSessionsPerUser needs a store with a subject index")
	}
	return m, nil
}

// Store returns the manager's store.
func (m *Manager) Store() Store { return m.store }

// Config returns the configuration in effect, defaults filled in.
func (m *Manager) Config() Config { return m.cfg }

// Handler is the middleware: it makes the session available to next through
// the request's context. The store is read only when next first uses the
// session, and changes are committed before the first byte of the response
// is written.
func (m *Manager) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := &state{Context: r.Context(), m: m, w: w}
		r = r.WithContext(st)
		st.r = r
		next.ServeHTTP(st, r)
		st.finish()
	})
}

// lifetimes returns the idle and absolute timeouts of a session.
func (m *Manager) lifetimes(persistent bool) (idle, absolute time.Duration) {
	if persistent {
		return m.cfg.RememberMeIdleTimeout, m.cfg.RememberMeAbsoluteTimeout
	}
	return m.cfg.IdleTimeout, m.cfg.AbsoluteTimeout
}

// live reports whether rec is a session that may be used at now.
func live(rec *Record, now time.Time) bool {
	return rec.RenewedTo == "" && now.Before(rec.IdleDeadline) && now.Before(rec.AbsoluteDeadline)
}

func (m *Manager) event(ctx context.Context, r *http.Request, kind EventKind, id, subject string, err error) {
	if m.cfg.OnEvent != nil {
		m.cfg.OnEvent(ctx, Event{Kind: kind, ID: id, Subject: subject, Request: r, Err: err})
	}
}
