package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/sessionkit/session"
)

// badIDLogEvery bounds the log lines about session IDs that open nothing.
// session.LogEvents writes a Warn line for each malformed or unknown ID,
// and a client that sends junk cookies could fill the disk with them. The
// metrics (sessionkit_rejected_total and friends) count every one; the log
// gets one line per interval, with how many it left out, and the guessing
// watch (guessing.go) still counts each per client.
const badIDLogEvery = 10 * time.Second

// eventLog is the log part of the event hook: session.LogEvents, with the
// lines about bad IDs sampled. It is safe for concurrent use.
type eventLog struct {
	log    func(context.Context, session.Event) // session.LogEvents
	logger *slog.Logger
	now    func() time.Time

	mu         sync.Mutex
	last       time.Time // of the last bad-ID line
	suppressed int       // bad IDs not logged since
}

func newEventLog(logger *slog.Logger, now func() time.Time) *eventLog {
	return &eventLog{log: session.LogEvents(logger), logger: logger, now: now}
}

func (l *eventLog) observe(ctx context.Context, e session.Event) {
	if e.Kind != session.EventMalformed && e.Kind != session.EventUnknown {
		l.log(ctx, e)
		return
	}
	now := l.now()
	l.mu.Lock()
	if !l.last.IsZero() && now.Sub(l.last) < badIDLogEvery {
		l.suppressed++
		l.mu.Unlock()
		return
	}
	skipped := l.suppressed
	l.last, l.suppressed = now, 0
	l.mu.Unlock()
	client := ""
	if e.Request != nil {
		client = clientKey(e.Request)
	}
	l.logger.LogAttrs(ctx, slog.LevelWarn, "session ID that opens nothing (logged at most once every 10s; the metrics count each)",
		slog.String("event", string(e.Kind)), slog.String("client", client), slog.Int("not_logged_since_last", skipped))
}
