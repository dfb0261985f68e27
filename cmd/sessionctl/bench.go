package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/storeurl"
)

// benchCmd load-tests a store: sessionctl bench [--concurrency N]
// [--duration D] [--prefix P | --table T] [--force].
//
// It drives the Store interface directly, as the manager does on each
// request (Load, then Commit with the expected version, Delete), rather
// than a session.Manager behind an HTTP server: on the same machine, the
// HTTP stack, cookies and the load generator would take most of the time
// and the CPU, and the numbers would describe them rather than the store
// being sized. Each operation of the mix is the store calls the manager
// makes for it:
//
//	create   Commit(rec, 0)                          a new visitor
//	read     Load                                    a request that reads the session
//	update   Load, Commit(rec, version)              a request that changes it (a cart)
//	renew    Load, Commit(new, 0), Commit(old tombstone, version)   a login
//	destroy  Delete                                  a logout
//	cas      Load, Commit(rec, version), retried on ErrConflict     concurrent updates of one session
//
// The cas operations increment counters in a few sessions that every worker
// shares; at the end, each counter must equal the increments whose Commit
// succeeded (the lost-update check). A failed check is an error (exit
// status 1).
//
// bench deletes what it created, and refuses a store that holds live
// sessions (by session.Counter; a store without one, memcached, counts as
// holding some) unless --prefix or --table gives it a namespace of its own,
// or --force.
type benchCmd struct {
	concurrency int
	duration    time.Duration
	prefix      string
	table       string
	force       bool
}

const (
	defaultBenchConcurrency = 8
	defaultBenchDuration    = 5 * time.Second
	maxBenchDuration        = 10 * time.Minute
	maxBenchConcurrency     = 1024

	// benchShared is how many sessions the cas operations share.
	benchShared = 4
	// benchMaxRetries bounds the retries of one cas operation.
	benchMaxRetries = 100
	// benchPool is how many sessions of its own a worker keeps at most.
	benchPool = 64
)

func (c *benchCmd) flags(fs *flag.FlagSet) {
	fs.IntVar(&c.concurrency, "concurrency", defaultBenchConcurrency, "concurrent workers")
	fs.DurationVar(&c.duration, "duration", defaultBenchDuration, "how long to run, at most "+maxBenchDuration.String())
	fs.StringVar(&c.prefix, "prefix", "", "key prefix of the bench's sessions (redis, memcached)")
	fs.StringVar(&c.table, "table", "", "table of the bench's sessions, created if missing (postgres, mysql)")
	fs.BoolVar(&c.force, "force", false, "run even though the store holds live sessions")
}

// storeOptions opens the store in the bench's namespace; a --table is
// created if missing, since it is the bench's own.
func (c *benchCmd) storeOptions() storeurl.Options {
	return storeurl.Options{Existing: c.table == "", Prefix: c.prefix, Table: c.table}
}

func (c *benchCmd) args(args []string) error {
	switch {
	case c.concurrency < 1 || c.concurrency > maxBenchConcurrency:
		return usagef("bench: --concurrency %d: want 1 to %d", c.concurrency, maxBenchConcurrency)
	case c.duration <= 0 || c.duration > maxBenchDuration:
		return usagef("bench: --duration %s: want more than 0 and at most %s", c.duration, maxBenchDuration)
	case c.prefix != "" && c.table != "":
		return usagef("bench: --prefix or --table, not both")
	}
	return noArgs("bench", args)
}

// namespaced reports whether the bench runs in a namespace of its own.
func (c *benchCmd) namespaced() bool { return c.prefix != "" || c.table != "" }

// benchOps are the operations of the mix, in the order of the report, with
// their weights out of 100.
var benchOps = []struct {
	name   string
	weight int
}{
	{"create", 10},
	{"read", 55},
	{"update", 20},
	{"renew", 5},
	{"destroy", 5},
	{"cas", 5},
}

const (
	opCreate = iota
	opRead
	opUpdate
	opRenew
	opDestroy
	opCAS
)

// benchJSON is the JSON form of bench's report. Latencies are in
// microseconds.
type benchJSON struct {
	Store       string         `json:"store"`
	Concurrency int            `json:"concurrency"`
	Seconds     float64        `json:"seconds"`
	Ops         []benchOpJSON  `json:"operations"`
	Total       int            `json:"total"`
	PerSecond   float64        `json:"per_second"`
	LostUpdate  lostUpdateJSON `json:"lost_update_check"`
	Created     int            `json:"created"`             // sessions the bench created
	Deleted     int            `json:"deleted"`             // IDs deleted at the end: live sessions and tombstones (the destroyed ones are gone already)
	Failed      int            `json:"failed_deletes"`      // IDs the cleanup could not delete
	Remaining   *int           `json:"remaining,omitempty"` // live sessions in the store after the cleanup, where it counts them
}

type benchOpJSON struct {
	Name      string  `json:"name"`
	Count     int     `json:"count"`
	Errors    int     `json:"errors"`
	PerSecond float64 `json:"per_second"`
	P50       float64 `json:"p50_us"`
	P90       float64 `json:"p90_us"`
	P99       float64 `json:"p99_us"`
	Max       float64 `json:"max_us"`
}

type lostUpdateJSON struct {
	Sessions     int  `json:"sessions"`
	Acknowledged int  `json:"acknowledged"` // increments whose Commit succeeded
	Counted      int  `json:"counted"`      // the sum of the final counters
	Ambiguous    int  `json:"ambiguous"`    // Commits that failed other than by a conflict: may or may not have landed
	Conflicts    int  `json:"conflicts"`    // ErrConflict, retried
	GaveUp       int  `json:"gave_up"`      // increments abandoned after benchMaxRetries conflicts
	OK           bool `json:"ok"`
}

// benchWorker is one worker's state; only its goroutine touches it until
// the run ends.
type benchWorker struct {
	store   session.Store
	subject string // of the sessions it renews, as a login would
	rng     *mrand.Rand
	pool    []string // IDs of its live sessions
	created int      // sessions it created
	// leftovers are the other IDs the cleanup deletes: renewal tombstones,
	// and the IDs of Commits that failed, which may have landed.
	leftovers []string
	lat       [len(benchOpsNames)]histogram
	errs      [len(benchOpsNames)]int
	lastErr   error
	// The lost-update check: per shared session.
	acked, ambiguous [benchShared]int
	conflicts        int
	gaveUp           int
}

var benchOpsNames = [...]string{"create", "read", "update", "renew", "destroy", "cas"}

func (c *benchCmd) run(ctx context.Context, e *env) error {
	if err := c.checkEmpty(ctx, e.store); err != nil {
		return err
	}
	shared := make([]string, benchShared)
	for i := range shared {
		shared[i] = newBenchID()
		rec := newBenchRecord(shared[i], time.Now())
		rec.Values = append(rec.Values, session.Value{Key: "counter", Data: []byte("0")})
		sortValues(rec)
		if err := e.store.Commit(ctx, rec, 0); err != nil {
			cleanup(e.store, shared[:i+1]) // best effort: the error below matters more
			return fmt.Errorf("bench: create the shared sessions: %w", err)
		}
	}

	// A subject of its own, so that the cleanup can clear the store's
	// index of it (redisstore keeps stale members until they expire).
	subject := "sessionctl-bench-" + newBenchID()[:12]
	workers := make([]*benchWorker, c.concurrency)
	var ops atomic.Int64 // for the progress line
	runCtx, stop := context.WithTimeout(ctx, c.duration)
	defer stop()
	start := time.Now()
	var wg sync.WaitGroup
	for i := range workers {
		w := &benchWorker{store: e.store, subject: subject, rng: mrand.New(mrand.NewPCG(uint64(i), uint64(start.UnixNano())))}
		workers[i] = w
		wg.Go(func() {
			// Store calls take ctx, not runCtx: an operation under way when
			// the time is up completes, so that nothing it created escapes
			// the cleanup and the deadline is not counted as an error.
			for runCtx.Err() == nil {
				w.step(ctx, shared)
				ops.Add(1)
			}
		})
	}
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		progress(e.stderr, start, c.duration, &ops, done)
		close(stopped)
	}()
	wg.Wait()
	elapsed := time.Since(start)
	close(done)
	<-stopped // no progress line after the report

	// The lost-update check, before the cleanup deletes the counters.
	lu := lostUpdateJSON{Sessions: benchShared}
	var ids []string
	created := len(shared)
	for _, w := range workers {
		ids = append(ids, w.pool...)
		ids = append(ids, w.leftovers...)
		created += w.created
		lu.Conflicts += w.conflicts
		lu.GaveUp += w.gaveUp
	}
	lu.OK = true
	var checkErr error
	for i, id := range shared {
		acked, ambiguous := 0, 0
		for _, w := range workers {
			acked += w.acked[i]
			ambiguous += w.ambiguous[i]
		}
		lu.Acknowledged += acked
		lu.Ambiguous += ambiguous
		n, err := loadCounter(context.WithoutCancel(ctx), e.store, id)
		if err != nil {
			checkErr = errors.Join(checkErr, fmt.Errorf("bench: lost-update check: load shared session %d: %w", i, err))
			lu.OK = false
			continue
		}
		lu.Counted += n
		if n < acked || n > acked+ambiguous {
			lu.OK = false
			checkErr = errors.Join(checkErr, fmt.Errorf("bench: lost-update check failed: shared session %d counts %d increments, %d were acknowledged (%d ambiguous)", i, n, acked, ambiguous))
		}
	}
	ids = append(ids, shared...)
	out := benchJSON{Created: created}
	out.Deleted, out.Failed = cleanup(e.store, ids)
	if idx, ok := e.store.(session.SubjectIndex); ok {
		if _, err := idx.DeleteSubject(context.WithoutCancel(ctx), subject); err != nil {
			out.Failed++
		}
	}
	if counter, ok := e.store.(session.Counter); ok {
		if n, err := counter.Count(context.WithoutCancel(ctx)); err == nil {
			out.Remaining = &n
		}
	}
	if err := c.report(e, &out, workers, elapsed, lu); err != nil {
		return err
	}
	if checkErr != nil {
		return checkErr
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bench: interrupted after %s: %w", elapsed.Round(time.Millisecond), err)
	}
	return nil
}

// checkEmpty refuses a store that holds live sessions, unless the bench has
// a namespace of its own or --force.
func (c *benchCmd) checkEmpty(ctx context.Context, store session.Store) error {
	if c.force {
		return nil
	}
	advice := "give the bench a namespace of its own with --prefix (redis, memcached), --table (postgres, mysql) or another file (sqlite), or pass --force"
	counter, ok := store.(session.Counter)
	if !ok {
		if c.namespaced() {
			return nil
		}
		return fmt.Errorf("bench: this store cannot count its sessions (it has no session.Counter), so it may hold real ones: %s", advice)
	}
	n, err := counter.Count(ctx)
	if err != nil {
		return fmt.Errorf("bench: count the sessions: %w", err)
	}
	if n > 0 {
		return fmt.Errorf("bench: the store holds %s; the bench writes and deletes sessions beside them: %s", plural(n, "live session"), advice)
	}
	return nil
}

// step runs one operation of the mix.
func (w *benchWorker) step(ctx context.Context, shared []string) {
	op := w.pick()
	if len(w.pool) == 0 && op != opCAS {
		op = opCreate
	}
	start := time.Now()
	var err error
	switch op {
	case opCreate:
		err = w.create(ctx)
	case opRead:
		_, err = w.store.Load(ctx, w.pool[w.rng.IntN(len(w.pool))])
	case opUpdate:
		err = w.update(ctx, w.pool[w.rng.IntN(len(w.pool))])
	case opRenew:
		err = w.renew(ctx, w.rng.IntN(len(w.pool)))
	case opDestroy:
		i := w.rng.IntN(len(w.pool))
		err = w.store.Delete(ctx, w.pool[i])
		w.pool = slices.Delete(w.pool, i, i+1)
	case opCAS:
		err = w.increment(ctx, shared)
	}
	w.lat[op].record(time.Since(start))
	if err != nil {
		w.errs[op]++
		w.lastErr = err
	}
}

func (w *benchWorker) pick() int {
	n := w.rng.IntN(100)
	for i, op := range benchOps {
		if n < op.weight {
			if len(w.pool) >= benchPool && i == opCreate {
				return opRead // keep the pool bounded: the store's size stays steady
			}
			return i
		}
		n -= op.weight
	}
	return opRead
}

func (w *benchWorker) create(ctx context.Context) error {
	id := newBenchID()
	w.created++
	if err := w.store.Commit(ctx, newBenchRecord(id, time.Now()), 0); err != nil {
		w.leftovers = append(w.leftovers, id) // it may have landed
		return err
	}
	w.pool = append(w.pool, id)
	return nil
}

// update adds an item to the session's cart, as a request would.
func (w *benchWorker) update(ctx context.Context, id string) error {
	rec, err := w.store.Load(ctx, id)
	if err != nil {
		return err
	}
	next := *rec
	now := time.Now()
	next.Version, next.LastActive, next.IdleDeadline = rec.Version+1, now, now.Add(30*time.Minute)
	next.Values = slices.Clone(rec.Values)
	for i, v := range next.Values {
		if v.Key == "cart" {
			next.Values[i].Data = fmt.Appendf(nil, `[{"sku":"sku-%d","qty":%d}]`, w.rng.IntN(1000), 1+w.rng.IntN(5))
		}
	}
	return w.store.Commit(ctx, &next, rec.Version)
}

// renew moves the session at pool[i] to a new ID, leaving a tombstone, as
// a login does.
func (w *benchWorker) renew(ctx context.Context, i int) error {
	oldID := w.pool[i]
	rec, err := w.store.Load(ctx, oldID)
	if err != nil {
		return err
	}
	now := time.Now()
	moved := *rec
	moved.ID, moved.Version, moved.Subject, moved.AuthTime = newBenchID(), 1, w.subject, now
	w.created++
	if err := w.store.Commit(ctx, &moved, 0); err != nil {
		w.leftovers = append(w.leftovers, moved.ID) // it may have landed
		return err
	}
	w.pool[i] = moved.ID
	w.leftovers = append(w.leftovers, oldID) // the tombstone
	tomb := &session.Record{
		ID: oldID, Version: rec.Version + 1, RenewedTo: moved.ID,
		Created: rec.Created, LastActive: now,
		IdleDeadline: now.Add(30 * time.Second), AbsoluteDeadline: now.Add(30 * time.Second),
	}
	return w.store.Commit(ctx, tomb, rec.Version)
}

// increment adds one to the counter of a shared session, by compare and
// swap, retrying on conflicts.
func (w *benchWorker) increment(ctx context.Context, shared []string) error {
	k := w.rng.IntN(len(shared))
	for range benchMaxRetries {
		rec, err := w.store.Load(ctx, shared[k])
		if err != nil {
			return err
		}
		data, _ := rec.Lookup("counter")
		n, err := strconv.Atoi(string(data))
		if err != nil {
			return fmt.Errorf("shared session: counter %q: %w", data, err)
		}
		next := *rec
		next.Version = rec.Version + 1
		next.Values = slices.Clone(rec.Values)
		for i, v := range next.Values {
			if v.Key == "counter" {
				next.Values[i].Data = strconv.AppendInt(nil, int64(n+1), 10)
			}
		}
		err = w.store.Commit(ctx, &next, rec.Version)
		switch {
		case err == nil:
			w.acked[k]++
			return nil
		case errors.Is(err, session.ErrConflict):
			w.conflicts++
			continue
		default:
			w.ambiguous[k]++ // a timeout may have landed
			return err
		}
	}
	w.gaveUp++
	return fmt.Errorf("cas: %d conflicts in a row: %w", benchMaxRetries, session.ErrConflict)
}

// loadCounter returns the counter of a shared session.
func loadCounter(ctx context.Context, store session.Store, id string) (int, error) {
	rec, err := store.Load(ctx, id)
	if err != nil {
		return 0, err
	}
	data, _ := rec.Lookup("counter")
	return strconv.Atoi(string(data))
}

// cleanup deletes ids, in a context of its own (the run's may be
// interrupted), and returns how many deletes succeeded and failed.
func cleanup(store session.Store, ids []string) (deleted, failed int) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, id := range ids {
		if store.Delete(ctx, id) == nil {
			deleted++
		} else {
			failed++
		}
	}
	return deleted, failed
}

// newBenchID returns a random store ID: 64 hex digits, like the hash of a
// token.
func newBenchID() string {
	var b [32]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newBenchRecord is an anonymous session with a cart, a CSRF secret and a
// theme: a few hundred bytes, as a shop's sessions are.
func newBenchRecord(id string, now time.Time) *session.Record {
	rec := &session.Record{
		ID: id, Version: 1,
		Created: now, LastActive: now,
		IdleDeadline: now.Add(30 * time.Minute), AbsoluteDeadline: now.Add(24 * time.Hour),
		ClientAddr: "192.0.2.1", UserAgent: "sessionctl-bench/1 (Mozilla/5.0 compatible)",
		Values: []session.Value{
			{Key: "cart", Data: []byte(`[{"sku":"sku-1","qty":1},{"sku":"sku-2","qty":3}]`)},
			{Key: "csrf", Data: []byte(`"` + newBenchID()[:43] + `"`)},
			{Key: "theme", Data: []byte(`"dark"`)},
		},
	}
	return rec
}

// sortValues sorts rec's values by key, as Record requires.
func sortValues(rec *session.Record) {
	slices.SortFunc(rec.Values, func(a, b session.Value) int {
		switch {
		case a.Key < b.Key:
			return -1
		case a.Key > b.Key:
			return 1
		}
		return 0
	})
}

// progress prints a line every interval until done: on a terminal, one
// line rewritten in place.
func progress(w io.Writer, start time.Time, total time.Duration, ops *atomic.Int64, done <-chan struct{}) {
	interval := min(time.Second, max(total/3, 50*time.Millisecond))
	end := "\n"
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			end = "\r"
		}
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-done:
			if end == "\r" {
				fmt.Fprint(w, "\033[K") // clear the progress line
			}
			return
		case <-t.C:
			el := time.Since(start)
			n := ops.Load()
			fmt.Fprintf(w, "bench: %s of %s, %d operations, %.0f/s%s", el.Round(100*time.Millisecond), total, n, float64(n)/el.Seconds(), end)
		}
	}
}

// report prints the results.
func (c *benchCmd) report(e *env, out *benchJSON, workers []*benchWorker, elapsed time.Duration, lu lostUpdateJSON) error {
	out.Store, out.Concurrency, out.Seconds, out.LostUpdate = e.storeName, c.concurrency, elapsed.Seconds(), lu
	var lastErr error
	for op, name := range benchOpsNames {
		var lat histogram
		o := benchOpJSON{Name: name}
		for _, w := range workers {
			lat.merge(&w.lat[op])
			o.Errors += w.errs[op]
			if w.lastErr != nil {
				lastErr = w.lastErr
			}
		}
		o.Count = int(lat.n)
		o.PerSecond = float64(o.Count) / elapsed.Seconds()
		us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
		o.P50, o.P90, o.P99, o.Max = us(lat.percentile(50)), us(lat.percentile(90)), us(lat.percentile(99)), us(lat.max)
		out.Ops = append(out.Ops, o)
		out.Total += o.Count
	}
	out.PerSecond = float64(out.Total) / elapsed.Seconds()
	if e.json {
		return writeJSON(e.stdout, out)
	}

	fmt.Fprintf(e.stdout, "%s, %d workers, %s: %d operations, %.0f/s\n\n", out.Store, c.concurrency, elapsed.Round(time.Millisecond), out.Total, out.PerSecond)
	w := table(e.stdout)
	fmt.Fprintln(w, "OPERATION\tCOUNT\tERRORS\tPER SECOND\tP50\tP90\tP99\tMAX")
	for _, o := range out.Ops {
		d := func(us float64) string { return latency(time.Duration(us * float64(time.Microsecond))) }
		fmt.Fprintf(w, "%s\t%d\t%d\t%.0f\t%s\t%s\t%s\t%s\n", o.Name, o.Count, o.Errors, o.PerSecond, d(o.P50), d(o.P90), d(o.P99), d(o.Max))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if lastErr != nil {
		fmt.Fprintf(e.stdout, "\nlast error: %v\n", lastErr)
	}
	verdict := "ok"
	if !lu.OK {
		verdict = "FAILED"
	}
	fmt.Fprintf(e.stdout, "\nlost-update check: %s: %d shared sessions, %d increments acknowledged, %d counted (%d ambiguous, %d conflicts retried, %d given up)\n",
		verdict, lu.Sessions, lu.Acknowledged, lu.Counted, lu.Ambiguous, lu.Conflicts, lu.GaveUp)
	fmt.Fprintf(e.stdout, "cleanup: deleted what was left of the %s the bench created (%d IDs)", plural(out.Created, "session"), out.Deleted)
	if out.Failed > 0 {
		fmt.Fprintf(e.stdout, ", %d failed", out.Failed)
	}
	if out.Remaining != nil {
		fmt.Fprintf(e.stdout, "; the store holds %s", plural(*out.Remaining, "live session"))
	}
	_, err := fmt.Fprintln(e.stdout)
	return err
}

// latency formats d with three significant digits or so: 512µs, 1.25ms.
func latency(d time.Duration) string {
	switch {
	case d == 0:
		return "-"
	case d < 10*time.Microsecond:
		return d.Round(10 * time.Nanosecond).String()
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(10 * time.Microsecond).String()
	default:
		return d.Round(time.Millisecond).String()
	}
}
