package session_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/session"
)

// scriptStore is the scripted store of the commit-path tests: a struct of
// function fields in front of a real memstore. A nil field passes the call
// through; a set one decides what the call does, and may call next itself.
// Tests use it to make the store answer in ways only faults reach: conflicts
// on demand, lost replies, a verdict the store cannot give.
type scriptStore struct {
	*countingStore
	mu     sync.Mutex
	load   func(ctx context.Context, id string, next func() (*session.Record, error)) (*session.Record, error)
	commit func(ctx context.Context, rec *session.Record, expected uint64, next func() error) error
	delete func(ctx context.Context, id string, next func() error) error
	list   func(ctx context.Context, subject string, next func() ([]*session.Record, error)) ([]*session.Record, error)
	touch  func(ctx context.Context, id string, next func() error) error
}

func (s *scriptStore) Touch(ctx context.Context, id string, lastActive, idle time.Time) error {
	next := func() error { return s.countingStore.Touch(ctx, id, lastActive, idle) }
	s.mu.Lock()
	touch := s.touch
	s.mu.Unlock()
	if touch != nil {
		return touch(ctx, id, next)
	}
	return next()
}

// script sets the store's behaviour under its lock (requests run on other
// goroutines).
func (s *scriptStore) script(f func(s *scriptStore)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func (s *scriptStore) hooks() (l func(context.Context, string, func() (*session.Record, error)) (*session.Record, error),
	c func(context.Context, *session.Record, uint64, func() error) error,
	d func(context.Context, string, func() error) error,
	ls func(context.Context, string, func() ([]*session.Record, error)) ([]*session.Record, error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.load, s.commit, s.delete, s.list
}

func (s *scriptStore) Load(ctx context.Context, id string) (*session.Record, error) {
	next := func() (*session.Record, error) { return s.countingStore.Load(ctx, id) }
	if l, _, _, _ := s.hooks(); l != nil {
		return l(ctx, id, next)
	}
	return next()
}

func (s *scriptStore) Commit(ctx context.Context, rec *session.Record, expected uint64) error {
	next := func() error { return s.countingStore.Commit(ctx, rec, expected) }
	if _, c, _, _ := s.hooks(); c != nil {
		return c(ctx, rec, expected, next)
	}
	return next()
}

func (s *scriptStore) Delete(ctx context.Context, id string) error {
	next := func() error { return s.countingStore.Delete(ctx, id) }
	if _, _, d, _ := s.hooks(); d != nil {
		return d(ctx, id, next)
	}
	return next()
}

func (s *scriptStore) ListSubject(ctx context.Context, subject string) ([]*session.Record, error) {
	next := func() ([]*session.Record, error) { return s.countingStore.ListSubject(ctx, subject) }
	if _, _, _, ls := s.hooks(); ls != nil {
		return ls(ctx, subject, next)
	}
	return next()
}

// newScriptedEnv is newEnv with a scripted store in front of the memstore.
func newScriptedEnv(t *testing.T, cfg session.Config, h http.Handler) (*env, *scriptStore) {
	t.Helper()
	var ss *scriptStore
	e := newEnvWith(t, cfg, h, func(cs *countingStore) session.Store {
		ss = &scriptStore{countingStore: cs}
		return ss
	})
	return e, ss
}

// waitFor polls cond (background clean-up and settling run on their own
// goroutines) and fails the test if it does not hold within a few seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
