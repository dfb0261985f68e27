package bench_test

// The in-memory stores compared: live heap per small session, and the cost of
// the expiry sweep over a million live sessions. Run:
//
//	go test -run '^$' -bench 'HeapPerSession|Sweep' -benchmem -count 5

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"testing"
	"time"
	_ "unsafe" // go:linkname, to call scs memstore's unexported sweep

	"github.com/alexedwards/scs/v2"
	scsmem "github.com/alexedwards/scs/v2/memstore"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
)

// scsDeleteExpired is scs memstore's own sweep, (*MemStore).deleteExpired,
// which its cleanup goroutine runs every minute. It is unexported; linkname
// lets the benchmark time the real code rather than a copy of it.
//
//go:linkname scsDeleteExpired github.com/alexedwards/scs/v2/memstore.(*MemStore).deleteExpired
func scsDeleteExpired(m *scsmem.MemStore)

const heapSessions = 100_000

func liveHeap() uint64 {
	runtime.GC()
	runtime.GC() // a second cycle empties sync.Pool victim caches
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkHeapPerSession creates 100,000 sessions holding one small value
// ("user": "alice") through each library's normal request path and reports
// the growth of the live heap per session: the store's entries, keys and
// indexes, everything the sessions keep alive. ua=chrome sends a browser's
// User-Agent, which sessionkit keeps in the record (for the devices list)
// and scs does not.
//
// kind=loggedin is the realistic case of issue 10: each session logged in as
// a user of its own, holding a user id and a counter, so sessionkit's subject
// index (for the devices list) holds one entry per session too; scs has no
// such index and renews the token at login.
func BenchmarkHeapPerSession(b *testing.B) {
	for _, kind := range []string{"anonymous", "loggedin"} {
		for _, ua := range []string{"none", "chrome"} {
			for _, lib := range []string{"sessionkit", "scs"} {
				b.Run("kind="+kind+"/ua="+ua+"/lib="+lib, func(b *testing.B) {
					var perSession float64
					for b.Loop() {
						perSession = heapPerSession(b, lib, ua == "chrome", kind == "loggedin")
					}
					b.ReportMetric(perSession, "B/session")
				})
			}
		}
	}
}

// heapUsers are the distinct users of kind=loggedin, made before the heap
// is measured.
var heapUsers = func() []string {
	u := make([]string, heapSessions)
	for i := range u {
		u[i] = "user" + strconv.Itoa(100000+i)
	}
	return u
}()

func heapPerSession(b *testing.B, lib string, chrome, loggedIn bool) float64 {
	b.StopTimer()
	var h http.Handler
	var keep any
	var count func() int
	switch lib {
	case "sessionkit":
		store := memstore.New(memstore.Options{})
		defer store.Close()
		m, err := session.New(store, session.Config{})
		if err != nil {
			b.Fatal(err)
		}
		i := 0
		h = m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if loggedIn {
				if err := session.Login(r.Context(), heapUsers[i]); err != nil {
					b.Error(err)
				}
				i++
				if err := session.Put(r.Context(), "uid", int64(i)); err != nil {
					b.Error(err)
				}
				if err := session.Put(r.Context(), "n", int64(7)); err != nil {
					b.Error(err)
				}
				return
			}
			if err := session.Put(r.Context(), "user", "alice"); err != nil {
				b.Error(err)
			}
		}))
		keep = m
		count = func() int { n, _ := store.Count(context.Background()); return n }
	case "scs":
		sm := scs.New()
		store := sm.Store.(*scsmem.MemStore)
		defer store.StopCleanup()
		i := 0
		h = sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if loggedIn {
				if err := sm.RenewToken(r.Context()); err != nil {
					b.Error(err)
				}
				i++
				sm.Put(r.Context(), "user", heapUsers[i-1])
				sm.Put(r.Context(), "uid", int64(i))
				sm.Put(r.Context(), "n", int64(7))
				return
			}
			sm.Put(r.Context(), "user", "alice")
		}))
		keep = sm
		count = func() int { all, _ := store.All(); return len(all) }
	}
	req := httptest.NewRequest("GET", "/", nil)
	if chrome {
		req.Header.Set("User-Agent", chromeUA)
	}
	tmpl := *req
	w := &discard{h: http.Header{}}
	before := liveHeap()
	b.StartTimer()
	for range heapSessions {
		*req = tmpl
		clear(w.h)
		h.ServeHTTP(w, req)
	}
	b.StopTimer()
	after := liveHeap()
	runtime.KeepAlive(keep)
	if n := count(); n != heapSessions {
		b.Fatalf("%s holds %d sessions, want %d", lib, n, heapSessions)
	}
	b.StartTimer()
	return float64(after-before) / heapSessions
}

const sweepSessions = 1_000_000

// BenchmarkSweep times one expiry sweep over 1,000,000 sessions: none of
// them expired (the common case: a sweep every minute finds a few), or all
// of them (the worst case). sessionkit: memstore.DeleteExpired, which its
// sweeper runs every minute. scs: memstore's own deleteExpired, which its
// cleanup goroutine runs every minute, holding the store's one lock for the
// whole walk. The sessions are written straight into the stores (a realistic
// record: one small value, a client address and a browser's User-Agent for
// sessionkit, scs's gob encoding for scs), before the timer starts.
func BenchmarkSweep(b *testing.B) {
	for _, expired := range []string{"none", "all"} {
		b.Run("live=1M/expired="+expired+"/lib=sessionkit", func(b *testing.B) {
			t0 := time.Now()
			now := t0
			store := memstore.New(memstore.Options{Now: func() time.Time { return now }, SweepInterval: time.Hour})
			defer store.Close()
			fill := func() { fillSessionkit(b, store, t0) }
			sweepAt := t0.Add(time.Minute) // deadlines are spread over t0+30m..t0+1h
			if expired == "all" {
				sweepAt = t0.Add(2 * time.Hour)
			}
			fill()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if expired == "all" && i > 0 {
					b.StopTimer()
					fill()
					b.StartTimer()
				}
				n, err := store.DeleteExpired(context.Background(), sweepAt)
				if err != nil {
					b.Fatal(err)
				}
				if want := map[string]int{"none": 0, "all": sweepSessions}[expired]; n != want {
					b.Fatalf("swept %d, want %d", n, want)
				}
			}
		})
		b.Run("live=1M/expired="+expired+"/lib=scs", func(b *testing.B) {
			store := scsmem.NewWithCleanupInterval(0) // no goroutine: the benchmark sweeps
			expiry := time.Now().Add(time.Hour)
			if expired == "all" {
				expiry = time.Now().Add(-time.Second)
			}
			fill := func() { fillSCS(b, store, expiry) }
			fill()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if expired == "all" && i > 0 {
					b.StopTimer()
					fill()
					b.StartTimer()
				}
				scsDeleteExpired(store)
			}
			b.StopTimer()
			all, _ := store.All()
			if want := map[string]int{"none": sweepSessions, "all": 0}[expired]; len(all) != want {
				b.Fatalf("%d sessions left, want %d", len(all), want)
			}
		})
	}
}

func fillSessionkit(b *testing.B, store *memstore.Store, t0 time.Time) {
	ctx := context.Background()
	var raw [32]byte
	for i := range sweepSessions {
		rand.Read(raw[:])
		// Created over the last half hour, so idle deadlines spread over
		// t0+30m..t0+1h, as on a live site.
		created := t0.Add(-time.Duration(i%1800) * time.Second)
		rec := &session.Record{
			ID: hex.EncodeToString(raw[:]), Version: 1,
			Created: created, LastActive: created,
			IdleDeadline: created.Add(time.Hour), AbsoluteDeadline: created.Add(24 * time.Hour),
			ClientAddr: "203.0.113.7", UserAgent: chromeUA,
			Values: []session.Value{{Key: "user", Data: []byte(`"alice"`)}},
		}
		if err := store.Commit(ctx, rec, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func fillSCS(b *testing.B, store *scsmem.MemStore, expiry time.Time) {
	data, err := scs.GobCodec{}.Encode(expiry, map[string]any{"user": "alice"})
	if err != nil {
		b.Fatal(err)
	}
	var raw [32]byte
	for range sweepSessions {
		rand.Read(raw[:])
		store.Commit(base64.RawURLEncoding.EncodeToString(raw[:]), data, expiry)
	}
}
