package sessionprom

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
)

// countingStore counts Count calls; err makes them fail.
type countingStore struct {
	session.Store
	mu    sync.Mutex
	calls int
	err   error
}

func (s *countingStore) Count(ctx context.Context) (int, error) {
	s.mu.Lock()
	s.calls++
	err := s.err
	s.mu.Unlock()
	if err != nil {
		return 0, err
	}
	return s.Store.(session.Counter).Count(ctx)
}

func (s *countingStore) Calls() int { s.mu.Lock(); defer s.mu.Unlock(); return s.calls }

var seeded atomic.Int64

// seed stores n live sessions with fresh IDs.
func seed(t *testing.T, store session.Store, n int) {
	t.Helper()
	now := time.Now()
	for range n {
		rec := &session.Record{
			ID: fmt.Sprintf("%064x", seeded.Add(1)), Version: 1,
			Created: now, LastActive: now, IdleDeadline: now.Add(time.Hour), AbsoluteDeadline: now.Add(time.Hour),
		}
		if err := store.Commit(context.Background(), rec, 0); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWatchStore(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := New(reg, Options{StoreName: "memory", CountInterval: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	m.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	mem := memstore.New(memstore.Options{})
	defer mem.Close()
	store := &countingStore{Store: mem}
	seed(t, store, 3)
	if err := m.WatchStore(store); err != nil {
		t.Fatal(err)
	}
	present := func() bool {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "sessionkit_sessions_live" {
				m := mf.GetMetric()[0]
				if l := m.GetLabel(); len(l) != 1 || l[0].GetName() != "store" || l[0].GetValue() != "memory" {
					t.Fatalf("sessions_live labels %v, want store=memory", l)
				}
				return true
			}
		}
		return false
	}

	if !present() {
		t.Fatal("no sessions_live")
	}
	if got := testutil.ToFloat64(gaugeOf(t, reg)); got != 3 {
		t.Fatalf("sessions_live = %v, want 3", got)
	}
	// Within the interval, scrapes reuse the count, however many there are.
	seed(t, store, 2)
	for range 10 {
		if got := testutil.ToFloat64(gaugeOf(t, reg)); got != 3 {
			t.Fatalf("sessions_live within the interval = %v, want the cached 3", got)
		}
	}
	if c := store.Calls(); c != 1 {
		t.Fatalf("%d counts for 11 scrapes within the interval, want 1", c)
	}
	// After it, the next scrape counts again.
	advance(10 * time.Second)
	if got := testutil.ToFloat64(gaugeOf(t, reg)); got != 5 {
		t.Fatalf("sessions_live after the interval = %v, want 5", got)
	}
	// A failing count drops the sample, counts an error, and is cached too.
	advance(10 * time.Second)
	store.mu.Lock()
	store.err = errors.New("connection refused")
	store.mu.Unlock()
	if present() {
		t.Fatal("sessions_live present while Count fails, want absent")
	}
	present()
	if c := store.Calls(); c != 3 {
		t.Fatalf("%d counts, want 3: a failure is reused for the interval too", c)
	}
	if v := testutil.ToFloat64(m.errs[opIndex("count")]); v != 1 {
		t.Fatalf("store_errors_total{op=count} = %v, want 1", v)
	}
	// A clock that jumps back does not freeze the cache.
	store.mu.Lock()
	store.err = nil
	store.mu.Unlock()
	advance(-time.Hour)
	if got := testutil.ToFloat64(gaugeOf(t, reg)); got != 5 {
		t.Fatalf("sessions_live after the clock went back = %v, want 5", got)
	}

	// A second WatchStore on the same Metrics is refused.
	if err := m.WatchStore(store); err == nil {
		t.Fatal("second WatchStore: no error")
	}
}

// gaugeOf gathers sessions_live from reg and returns it as a collector for
// testutil.ToFloat64.
func gaugeOf(t *testing.T, reg *prometheus.Registry) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "sessionkit_sessions_live" {
			v := mf.GetMetric()[0].GetGauge().GetValue()
			return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "x"}, func() float64 { return v })
		}
	}
	t.Fatal("no sessions_live")
	return nil
}

// storeOnly hides every optional capability of a store.
type storeOnly struct{ session.Store }

func TestWatchStoreUnsupported(t *testing.T) {
	m, err := New(prometheus.NewRegistry(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	mem := memstore.New(memstore.Options{})
	defer mem.Close()
	if err := m.WatchStore(storeOnly{mem}); !errors.Is(err, session.ErrUnsupported) {
		t.Fatalf("WatchStore of a store without Count: %v, want ErrUnsupported", err)
	}
}
