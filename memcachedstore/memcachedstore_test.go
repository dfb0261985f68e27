package memcachedstore_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/sessionkit/session"
	"github.com/sessionkit/session/internal/testenv"
	"github.com/sessionkit/session/memcachedstore"
	"github.com/sessionkit/session/storetest"
)

// client connects to the test memcached, or ends the test if there is none.
func client(t *testing.T) *memcache.Client {
	t.Helper()
	c := memcache.New(strings.Split(testenv.Get(testenv.Memcached), ",")...)
	c.MaxIdleConns = 16
	if err := c.Ping(); err != nil {
		testenv.Unreachable(t, testenv.Memcached, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// prefix returns a key prefix of its own for one test, so that tests never
// see each other's keys (or those of a previous run).
func prefix() string {
	var b [8]byte
	rand.Read(b[:])
	return "sessiontest:" + hex.EncodeToString(b[:]) + ":"
}

func newStore(t *testing.T, now func() time.Time) (*memcachedstore.Store, *memcache.Client, string) {
	c := client(t)
	p := prefix()
	return memcachedstore.New(c, memcachedstore.Options{Prefix: p, Now: now}), c, p
}

func record(now time.Time) *session.Record {
	return &session.Record{
		ID:               storetest.NewID(),
		Version:          1,
		Created:          now,
		LastActive:       now,
		IdleDeadline:     now.Add(time.Hour),
		AbsoluteDeadline: now.Add(24 * time.Hour),
		Values:           []session.Value{{Key: "n", Data: []byte("0")}},
	}
}

func TestConformance(t *testing.T) {
	storetest.RunOptions(t, func(t *testing.T, now func() time.Time) session.Store {
		s, _, _ := newStore(t, now)
		return s
	}, storetest.Options{ReportsExpired: true})
}

// TestCapabilities: memcached cannot index, list or count its items, and
// the store says so by not implementing those capabilities.
func TestCapabilities(t *testing.T) {
	var s session.Store = memcachedstore.New(memcache.New("127.0.0.1:0"), memcachedstore.Options{})
	if _, ok := s.(session.SubjectIndex); ok {
		t.Error("memcachedstore implements session.SubjectIndex; memcached cannot index by subject")
	}
	if _, ok := s.(session.Iterator); ok {
		t.Error("memcachedstore implements session.Iterator; memcached cannot list its keys")
	}
	if _, ok := s.(session.Counter); ok {
		t.Error("memcachedstore implements session.Counter; memcached cannot count a prefix")
	}
	if _, ok := s.(session.Sweeper); ok {
		t.Error("memcachedstore implements session.Sweeper; memcached expires items itself")
	}
	if _, ok := s.(session.Toucher); !ok {
		t.Error("memcachedstore does not implement session.Toucher")
	}
}

// TestKeyLayout: one item per session, Prefix + ID, holding the encoded
// record.
func TestKeyLayout(t *testing.T) {
	ctx := context.Background()
	s, c, p := newStore(t, nil)
	rec := record(time.Now())
	if err := s.Commit(ctx, rec, 0); err != nil {
		t.Fatal(err)
	}
	it, err := c.Get(p + rec.ID)
	if err != nil {
		t.Fatalf("Get(%q): %v", p+rec.ID, err)
	}
	got, err := session.DecodeRecord(rec.ID, it.Value)
	if err != nil || got.Version != 1 {
		t.Fatalf("item value decodes to %+v, %v", got, err)
	}

	def := memcachedstore.New(c, memcachedstore.Options{})
	rec = record(time.Now())
	if err := def.Commit(ctx, rec, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { def.Delete(ctx, rec.ID) })
	if _, err := c.Get(memcachedstore.DefaultPrefix + rec.ID); err != nil {
		t.Fatalf("default prefix: Get: %v", err)
	}
}

// TestCreateOverExpired: a record that the store's clock has expired but
// memcached still holds is absent: a create replaces it.
func TestCreateOverExpired(t *testing.T) {
	ctx := context.Background()
	clock := storetest.NewClock()
	s, _, _ := newStore(t, clock.Now)
	old := record(clock.Now())
	old.IdleDeadline = clock.Now().Add(time.Minute)
	if err := s.Commit(ctx, old, 0); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Minute)
	fresh := record(clock.Now())
	fresh.ID = old.ID
	fresh.Values = []session.Value{{Key: "n", Data: []byte("1")}}
	if err := s.Commit(ctx, fresh, 0); err != nil {
		t.Fatalf("create over an expired record: %v", err)
	}
	got, err := s.Load(ctx, old.ID)
	if err != nil || string(got.Values[0].Data) != "1" {
		t.Fatalf("Load = %+v, %v; want the new record", got, err)
	}
	if err := s.Commit(ctx, record(clock.Now()), 0); err != nil {
		t.Fatal(err)
	}
}

// TestLongLived: a session longer than 30 days gets an absolute expiration;
// sent as relative seconds, memcached would read it as a date in 1970 and
// drop the item at once.
func TestLongLived(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t, nil)
	for _, ttl := range []time.Duration{29 * 24 * time.Hour, 30 * 24 * time.Hour, 31 * 24 * time.Hour, 400 * 24 * time.Hour} {
		rec := record(time.Now())
		rec.IdleDeadline = time.Now().Add(ttl)
		rec.AbsoluteDeadline = rec.IdleDeadline
		if err := s.Commit(ctx, rec, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Load(ctx, rec.ID); err != nil {
			t.Fatalf("Load of a session that lives %v: %v", ttl, err)
		}
		if err := s.Delete(ctx, rec.ID); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTouchNeverConflicts: touches keep the version, so a writer racing
// with them never sees a conflict: only other writers cause one.
func TestTouchNeverConflicts(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t, nil)
	rec := record(time.Now())
	if err := s.Commit(ctx, rec, 0); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			now := time.Now()
			// A touch may lose to the writer again and again; it then says
			// so with ErrConflict (the writer's commits extend the session
			// themselves). Any other error is a failure.
			if err := s.Touch(ctx, rec.ID, now, now.Add(time.Hour)); err != nil && !errors.Is(err, session.ErrConflict) {
				t.Errorf("Touch: %v", err)
				return
			}
			time.Sleep(time.Millisecond)
		}
	})
	defer wg.Wait()
	defer close(stop)
	for i := range 50 {
		cur, err := s.Load(ctx, rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		next := *cur
		next.Version++
		if err := s.Commit(ctx, &next, cur.Version); err != nil {
			t.Fatalf("commit %d racing with touches: %v", i, err)
		}
	}
}

func TestUnreachable(t *testing.T) {
	c := memcache.New("127.0.0.1:1") // nothing listens on port 1
	c.Timeout = 100 * time.Millisecond
	s := memcachedstore.New(c, memcachedstore.Options{})
	ctx := context.Background()
	if _, err := s.Load(ctx, storetest.NewID()); err == nil || errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Load from an unreachable server = %v; want a store error, not ErrNotFound", err)
	}
	if err := s.Commit(ctx, record(time.Now()), 0); err == nil || errors.Is(err, session.ErrConflict) {
		t.Fatalf("Commit to an unreachable server = %v; want a store error", err)
	}
	if err := s.Delete(ctx, storetest.NewID()); err == nil {
		t.Fatal("Delete on an unreachable server succeeded")
	}
}

func TestCanceledContext(t *testing.T) {
	s, _, _ := newStore(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Load(ctx, storetest.NewID()); !errors.Is(err, context.Canceled) {
		t.Fatalf("Load with a canceled context = %v", err)
	}
	if err := s.Commit(ctx, record(time.Now()), 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("Commit with a canceled context = %v", err)
	}
}

// TestCorruptRecord: an item that cannot be decoded fails Load with
// session.ErrCorrupt (the manager replaces the session), and a create over
// it is a conflict, not an overwrite.
func TestCorruptRecord(t *testing.T) {
	ctx := context.Background()
	s, c, p := newStore(t, nil)
	id := storetest.NewID()
	if err := c.Set(&memcache.Item{Key: p + id, Value: []byte{0xff, 0}, Expiration: 60}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx, id); !errors.Is(err, session.ErrCorrupt) {
		t.Fatalf("Load of a corrupt item = %v; want ErrCorrupt", err)
	}
	rec := record(time.Now())
	rec.ID = id
	if err := s.Commit(ctx, rec, 0); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("create over a corrupt item = %v; want ErrConflict", err)
	}
	if err := s.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, rec, 0); err != nil {
		t.Fatalf("create after Delete: %v", err)
	}
}

// TestTooLarge: against the real memcached (default item size, 1 MiB), a
// record larger than an item may be fails its commit, create or update, with
// an error wrapping session.ErrTooLarge: the record's fault, not an outage.
// The session it would have replaced is still there, and the store serves the
// next operation.
func TestTooLarge(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t, nil)
	limit := itemSizeMax(t)
	if limit > 64<<20 {
		t.Skipf("memcached's item_size_max is %d bytes: too much to send in a test", limit)
	}
	big := func(id string, version uint64) *session.Record {
		r := record(time.Now())
		r.ID, r.Version = id, version
		r.Values = []session.Value{{Key: "big", Data: []byte(`"` + strings.Repeat("x", limit) + `"`)}}
		return r
	}
	small := record(time.Now())
	if err := s.Commit(ctx, small, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, big(storetest.NewID(), 1), 0); !errors.Is(err, session.ErrTooLarge) {
		t.Fatalf("create of a record over %d bytes = %v; want ErrTooLarge", limit, err)
	}
	if err := s.Commit(ctx, big(small.ID, 2), 1); !errors.Is(err, session.ErrTooLarge) {
		t.Fatalf("update to a record over %d bytes = %v; want ErrTooLarge", limit, err)
	}
	got, err := s.Load(ctx, small.ID)
	if err != nil || got.Version != 1 {
		t.Fatalf("Load after the refused update = %+v, %v; want version 1", got, err)
	}
	next := *got
	next.Version++
	if err := s.Commit(ctx, &next, 1); err != nil {
		t.Fatalf("commit after the refused ones: %v", err)
	}
}

// itemSizeMax asks memcached for its largest item (stats settings).
func itemSizeMax(t *testing.T) int {
	t.Helper()
	conn, err := net.DialTimeout("tcp", strings.Split(testenv.Get(testenv.Memcached), ",")[0], 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := conn.Write([]byte("stats settings\r\n")); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(conn)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 3 && f[0] == "STAT" && f[1] == "item_size_max" {
			n, err := strconv.Atoi(f[2])
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if sc.Text() == "END" {
			break
		}
	}
	t.Fatalf("memcached did not report item_size_max: %v", sc.Err())
	return 0
}
