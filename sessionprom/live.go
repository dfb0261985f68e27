package sessionprom

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sessionkit/session"
)

// countTimeout bounds one Count, so a slow store cannot hold a scrape past
// Prometheus's default scrape timeout (10s).
const countTimeout = 5 * time.Second

// WatchStore registers sessions_live{store}, the number of live records that
// store reports through session.Counter. The count is taken during a scrape
// and reused for Options.CountInterval, so that frequent scrapes, or several
// Prometheus servers, cost at most one Count per interval; concurrent scrapes
// wait for the count in progress rather than start their own. When Count
// fails, the scrape carries no sessions_live sample (rather than a stale or
// made-up one) and store_errors_total{op="count"} goes up; the failure is
// reused for the interval like a count.
//
// Stores without session.Counter (memcachedstore) cannot be watched: the
// error wraps session.ErrUnsupported. Call WatchStore once per Metrics.
func (m *Metrics) WatchStore(store session.Store) error {
	counter, ok := store.(session.Counter)
	if !ok {
		return fmt.Errorf("sessionprom: watch store: %w: the store cannot count its sessions", session.ErrUnsupported)
	}
	c := &liveCollector{
		m:       m,
		counter: counter,
		desc: prometheus.NewDesc(prometheus.BuildFQName(m.opts.Namespace, "", "sessions_live"),
			"Live sessions in the store (tombstones not counted); refreshed at most once per count interval.",
			nil, prometheus.Labels{"store": m.opts.StoreName}),
	}
	if err := m.reg.Register(c); err != nil {
		return fmt.Errorf("sessionprom: watch store: %w", err)
	}
	return nil
}

// liveCollector reports a cached session.Counter.Count.
type liveCollector struct {
	m       *Metrics
	counter session.Counter
	desc    *prometheus.Desc

	mu  sync.Mutex // held during a count: concurrent scrapes share it
	at  time.Time  // when the cached result was taken; zero before the first
	n   int
	err error
}

func (c *liveCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *liveCollector) Collect(ch chan<- prometheus.Metric) {
	n, err := c.count()
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n))
}

func (c *liveCollector) count() (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.m.now()
	if !c.at.IsZero() && now.Sub(c.at) < c.m.opts.CountInterval && !now.Before(c.at) {
		return c.n, c.err
	}
	ctx, cancel := context.WithTimeout(context.Background(), countTimeout)
	defer cancel()
	start := time.Now()
	n, err := c.counter.Count(ctx)
	c.m.StoreOp(session.StoreOp{Op: "count", Duration: time.Since(start), Err: err})
	c.at, c.n, c.err = now, n, err
	return n, err
}
