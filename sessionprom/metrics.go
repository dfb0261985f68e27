package sessionprom

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sessionkit/session"
)

// DefaultNamespace prefixes every metric name unless Options.Namespace is set.
const DefaultNamespace = "sessionkit"

// DefaultDurationBuckets are the upper bounds, in seconds, of the store
// latency histogram: from 100µs (an in-process store, Redis on loopback) to
// 2.5s (a database under load).
var DefaultDurationBuckets = []float64{
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
}

// Options configures Metrics. The zero value is ready to use.
type Options struct {
	// Namespace prefixes the metric names. Default "sessionkit".
	Namespace string
	// StoreName is the value of the store label ("redis", "postgres", ...).
	// It must be a constant of the app, never something taken from a
	// request. Default "default".
	StoreName string
	// DurationBuckets are the bounds, in seconds, of the store latency
	// histogram. Default DefaultDurationBuckets.
	DurationBuckets []float64
	// CountInterval is how long WatchStore reuses a count of the live
	// sessions, so that scrapes, however frequent, count at most once per
	// interval. Default 5 seconds. Raise it for Redis, where counting scans
	// the whole database.
	CountInterval time.Duration
}

// Operations, the values of the op label.
var storeOps = [...]string{"load", "commit", "delete", "touch", "list", "delete_subject", "count", "other"}

// opIndex returns the position of op in storeOps; unknown operations map to
// "other", so a future operation cannot grow the label set unbounded.
func opIndex(op string) int {
	for i, o := range storeOps {
		if o == op {
			return i
		}
	}
	return len(storeOps) - 1
}

// Metrics holds the collectors of one session manager. Create it with New,
// then call Instrument on the manager's Config. It is safe for concurrent use.
type Metrics struct {
	reg  prometheus.Registerer
	opts Options
	now  func() time.Time // the clock of the live-count cache, for tests

	created, renewed, destroyed, expired prometheus.Counter
	revoked, evicted                     prometheus.Counter
	malformed, unknown, stale            prometheus.Counter
	corrupt, conflicts, discarded        prometheus.Counter
	touches, touchesAvoided              prometheus.Counter
	clientChanges, limits                prometheus.Counter

	duration  [len(storeOps)]*lazyObserver
	errs      [len(storeOps)]prometheus.Counter
	rejection [len(reasons)]prometheus.Counter
}

// New creates the collectors and registers them with reg. It fails if reg
// already holds metrics of the same names (a second Metrics with the same
// Namespace on one registry).
func New(reg prometheus.Registerer, opts Options) (*Metrics, error) {
	if reg == nil {
		return nil, errors.New("sessionprom: nil Registerer")
	}
	if opts.Namespace == "" {
		opts.Namespace = DefaultNamespace
	}
	if opts.StoreName == "" {
		opts.StoreName = "default"
	}
	if opts.DurationBuckets == nil {
		opts.DurationBuckets = DefaultDurationBuckets
	}
	if opts.CountInterval < 0 {
		return nil, fmt.Errorf("sessionprom: CountInterval is negative (%v)", opts.CountInterval)
	}
	if opts.CountInterval == 0 {
		opts.CountInterval = 5 * time.Second
	}
	m := &Metrics{reg: reg, opts: opts, now: time.Now}

	var collectors []prometheus.Collector
	counter := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: opts.Namespace, Name: name, Help: help})
		collectors = append(collectors, c)
		return c
	}
	counterVec := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: opts.Namespace, Name: name, Help: help}, labels)
		collectors = append(collectors, c)
		return c
	}

	m.created = counter("sessions_created_total", "Sessions created (stored for the first time).")
	m.renewed = counter("sessions_renewed_total", "Sessions moved to a new ID (login, privilege change).")
	m.destroyed = counter("sessions_destroyed_total", "Sessions ended by the application (logout).")
	m.expired = counter("sessions_expired_total", "Requests that came with a session past its idle or absolute deadline.")
	revoked := counterVec("sessions_revoked_total", "Sessions ended server-side: revoked by the user or an admin, or evicted by the per-user session limit.", "cause")
	m.revoked, m.evicted = revoked.WithLabelValues("revoked"), revoked.WithLabelValues("evicted")
	rejected := counterVec("tokens_rejected_total", "Session tokens refused: malformed (never looked up), unknown (no such session: purged or guessed) or stale (renewed or ended moments ago).", "reason")
	m.malformed, m.unknown, m.stale = rejected.WithLabelValues("malformed"), rejected.WithLabelValues("unknown"), rejected.WithLabelValues("stale")
	m.corrupt = counter("corrupt_records_total", "Stored records that could not be decoded; each was deleted and replaced by a fresh session.")
	m.conflicts = counter("cas_conflicts_total", "Commits that found the session changed by a concurrent request and replayed their changes.")
	m.discarded = counter("discarded_changes_total", "Requests whose changes were dropped because the session was destroyed first.")
	m.touches = counter("touches_total", "Idle-deadline extensions written for read-only requests.")
	m.touchesAvoided = counter("touches_avoided_total", "Read-only requests that wrote nothing because the session was touched within the touch interval.")
	m.clientChanges = counter("client_changes_total", "Logged-in sessions used by a client with another user agent or network.")
	m.limits = counter("limit_rejections_total", "Logins refused by the per-user session limit.")
	rejections := counterVec("rejections_total", "Requests refused by CSRF protection or a rate limit.", "reason")
	for i, r := range reasons {
		m.rejection[i] = rejections.WithLabelValues(r)
	}

	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: opts.Namespace,
		Name:      "store_operation_duration_seconds",
		Help:      "Latency of the store calls made by the session manager, failed ones included.",
		Buckets:   opts.DurationBuckets,
	}, []string{"store", "op"})
	collectors = append(collectors, duration)
	errs := counterVec("store_errors_total", "Store calls that failed (not found and version conflicts are answers, not failures).", "store", "op")
	for i, op := range storeOps {
		// Observers are created on first use, so that the histogram shows
		// only the operations the store really sees; error counters start at
		// zero, so that rate() and alerts work before the first failure.
		m.duration[i] = &lazyObserver{vec: duration, store: opts.StoreName, op: op}
		m.errs[i] = errs.WithLabelValues(opts.StoreName, op)
	}

	for i, c := range collectors {
		if err := reg.Register(c); err != nil {
			// Unregister only what this call registered: Unregister goes by
			// descriptor, and would remove a clashing collector of another
			// Metrics.
			for _, done := range collectors[:i] {
				reg.Unregister(done)
			}
			return nil, fmt.Errorf("sessionprom: register: %w", err)
		}
	}
	return m, nil
}

// lazyObserver creates its histogram child on the first observation.
type lazyObserver struct {
	vec       *prometheus.HistogramVec
	store, op string
	once      sync.Once
	obs       prometheus.Observer
}

func (o *lazyObserver) Observe(v float64) {
	o.once.Do(func() { o.obs = o.vec.WithLabelValues(o.store, o.op) })
	o.obs.Observe(v)
}

// Instrument sets cfg.OnEvent and cfg.OnStoreOp to count into m. Hooks
// already set are kept and called after m's. Call it once per Config, before
// session.New; calling it twice counts everything twice.
func (m *Metrics) Instrument(cfg *session.Config) {
	if cfg == nil {
		panic("sessionprom: Instrument of a nil Config")
	}
	if prev := cfg.OnEvent; prev != nil {
		cfg.OnEvent = func(ctx context.Context, e session.Event) {
			m.Event(e)
			prev(ctx, e)
		}
	} else {
		cfg.OnEvent = func(_ context.Context, e session.Event) { m.Event(e) }
	}
	if prev := cfg.OnStoreOp; prev != nil {
		cfg.OnStoreOp = func(ctx context.Context, op session.StoreOp) {
			m.StoreOp(op)
			prev(ctx, op)
		}
	} else {
		cfg.OnStoreOp = func(_ context.Context, op session.StoreOp) { m.StoreOp(op) }
	}
}

// Event counts a lifecycle event. Instrument routes Config.OnEvent here; call
// it directly only from a hook of your own. Store errors are counted by
// StoreOp, so EventStoreError is not counted again here.
func (m *Metrics) Event(e session.Event) {
	var c prometheus.Counter
	switch e.Kind {
	case session.EventCreated:
		c = m.created
	case session.EventRenewed:
		c = m.renewed
	case session.EventDestroyed:
		c = m.destroyed
	case session.EventExpired:
		c = m.expired
	case session.EventRevoked:
		c = m.revoked
	case session.EventEvicted:
		c = m.evicted
	case session.EventMalformed:
		c = m.malformed
	case session.EventUnknown:
		c = m.unknown
	case session.EventStale:
		c = m.stale
	case session.EventCorrupt:
		c = m.corrupt
	case session.EventConflict:
		c = m.conflicts
	case session.EventDiscarded:
		c = m.discarded
	case session.EventTouched:
		c = m.touches
	case session.EventTouchAvoided:
		c = m.touchesAvoided
	case session.EventClientChanged:
		c = m.clientChanges
	case session.EventLimit:
		c = m.limits
	default:
		return // EventStoreError (counted by StoreOp), and kinds added later
	}
	c.Inc()
}

// StoreOp records a store call: its latency, and a failure unless the error
// is ErrNotFound or ErrConflict. Instrument routes Config.OnStoreOp here.
func (m *Metrics) StoreOp(op session.StoreOp) {
	i := opIndex(op.Op)
	m.duration[i].Observe(op.Duration.Seconds())
	if failed(op.Err) {
		m.errs[i].Inc()
	}
}

// failed reports whether err is a failure of the store rather than one of
// its answers.
func failed(err error) bool {
	return err != nil && !errors.Is(err, session.ErrNotFound) && !errors.Is(err, session.ErrConflict)
}
