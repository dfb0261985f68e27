package main

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/ratelimit"
)

// Session-ID guessing is watched, not punished. A 256-bit ID cannot be
// guessed, so the point is to tell the operator that someone is trying, not
// to protect the IDs; and refusing an address would lock out everyone
// behind it (an office, a mobile carrier's NAT), most of whom merely came
// back with an old cookie. So:
//
//   - Only tokens that open nothing the store ever knew count: malformed
//     ones (session.EventMalformed) and well-formed ones the store does not
//     know (session.EventUnknown). A session that expired
//     (session.EventExpired) or was renewed or ended moments ago in another
//     tab (session.EventStale) is ordinary traffic and never counts.
//   - Nothing is refused because of the count: no 429, no lookup skipped.
//   - An address over the threshold raises an alert: a Warn log line, the
//     sessiondemo_session_guessing_alerts_total metric and an entry on the
//     admin page, at most once per address per window.
//
// The threshold, 200 per minute (a burst of 200, refilled at 200 a minute):
// the session manager expires the cookie of a request whose token opened
// nothing, so a returning visitor sends a dead token about once, and a
// thousand visitors behind one NAT whose sessions expired send a thousand
// expired tokens in their first minute back, none of them counted. What
// counts from ordinary users is a token whose record the store already
// purged, one per browser, and two hundred of those from one address within
// a minute is rare enough to be worth a log line. A script sending a
// thousand random IDs a minute passes 200 in about fifteen seconds (its
// 1,000 a minute against a refill of 200 a minute) and is reported then,
// and again each minute while it goes on.
var (
	guessThreshold = ratelimit.Limit{Rate: 200, Per: time.Minute}
	// guessAlertEvery: one alert per address per this window.
	guessAlertEvery = ratelimit.Limit{Rate: 1, Per: time.Minute}
)

// maxGuessAlerts bounds the alerts kept for the admin page.
const maxGuessAlerts = 20

// guessAlert is one alert, as the admin page shows it.
type guessAlert struct {
	Client    string    // the client's address key (IPv6 by /64)
	At        time.Time // when the address went over the threshold
	Threshold int       // IDs per Window
	Window    time.Duration
}

// Minutes is the window in whole minutes, at least 1.
func (a guessAlert) Minutes() int { return max(int(a.Window/time.Minute), 1) }

// guessWatch counts the bad session IDs of each client address and raises
// the alerts. It is safe for concurrent use.
type guessWatch struct {
	count  *ratelimit.Counter // unknown and malformed IDs per address
	alerts *ratelimit.Limiter // one alert per address per window
	log    *slog.Logger
	raised prometheus.Counter
	// onAlert, when set, is called with each alert raised and the request
	// that raised it (the activity page).
	onAlert func(r *http.Request, a guessAlert)

	mu     sync.Mutex
	recent []guessAlert // newest first, at most maxGuessAlerts
}

func newGuessWatch(backend ratelimit.Backend, log *slog.Logger, reg prometheus.Registerer) (*guessWatch, error) {
	g := &guessWatch{
		// The count protects nothing that matters when its backend
		// fails: fail open, and log.
		count: ratelimit.NewCounter(backend, guessThreshold,
			ratelimit.Options{Name: "bad-session-id", Logger: log, FailOpenOnError: true}),
		alerts: ratelimit.New(backend, guessAlertEvery,
			ratelimit.Options{Name: "bad-session-id-alert", Logger: log, FailOpenOnError: true}),
		log: log,
		raised: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sessiondemo_session_guessing_alerts_total",
			Help: "Alerts raised for a client address that sent more unknown or malformed session IDs than the threshold allows.",
		}),
	}
	if err := reg.Register(g.raised); err != nil {
		return nil, err
	}
	return g, nil
}

// observe is the session manager's event hook: it counts the events that
// may be guessing, and raises an alert when an address goes over the
// threshold.
func (g *guessWatch) observe(ctx context.Context, e session.Event) {
	if (e.Kind != session.EventMalformed && e.Kind != session.EventUnknown) || e.Request == nil {
		return
	}
	client := clientKey(e.Request)
	over, err := g.count.Add(ctx, client)
	if err != nil {
		g.log.WarnContext(ctx, "counting a bad session ID failed", "err", err)
		return
	}
	if !over {
		return
	}
	d, err := g.alerts.Allow(ctx, client)
	if err != nil {
		g.log.WarnContext(ctx, "session ID guessing: alert limiter failed", "err", err)
		return
	}
	if !d.Allowed {
		return // already raised in this window
	}
	alert := guessAlert{Client: client, At: time.Now(), Threshold: guessThreshold.Rate, Window: guessThreshold.Per}
	g.raise(ctx, alert)
	if g.onAlert != nil {
		g.onAlert(e.Request, alert)
	}
}

func (g *guessWatch) raise(ctx context.Context, a guessAlert) {
	g.log.WarnContext(ctx, "session ID guessing suspected: unknown or malformed session IDs over the threshold; requests are not refused",
		"client", a.Client, "threshold", a.Threshold, "window", a.Window)
	g.raised.Inc()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.recent = append([]guessAlert{a}, g.recent[:min(len(g.recent), maxGuessAlerts-1)]...)
}

// Recent returns the latest alerts of this instance, newest first.
func (g *guessWatch) Recent() []guessAlert {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]guessAlert(nil), g.recent...)
}

// clientKey is the rate-limit key of the client's address.
func clientKey(r *http.Request) string {
	k, _ := ratelimit.ByAddress(r)
	return k
}
