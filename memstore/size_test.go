package memstore_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
	"github.com/sessionkit/session/storetest"
)

// TestHeapPerSession holds memstore to its memory budget: at most 300 bytes
// of live heap per small session (one short value, anonymous). Heap sizes are
// deterministic enough for a budget with headroom; skipped in -short.
func TestHeapPerSession(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 100k sessions")
	}
	const n = 100_000
	now := time.Now()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = storetest.NewID()
	}
	s := memstore.New(memstore.Options{})
	defer s.Close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, id := range ids {
		rec := &session.Record{ID: id, Version: 1, Created: now, LastActive: now,
			IdleDeadline: now.Add(time.Hour), AbsoluteDeadline: now.Add(24 * time.Hour),
			ClientAddr: "192.0.2.1", UserAgent: "Mozilla/5.0",
			Values: []session.Value{{Key: "user", Data: []byte(`"alice"`)}}}
		if err := s.Commit(context.Background(), rec, 0); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%.0f bytes of live heap per session", per)
	if per > 300 {
		t.Errorf("memstore holds %.0f bytes per small session; budget 300", per)
	}
	runtime.KeepAlive(s)
}
