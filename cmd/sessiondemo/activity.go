package main

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/sessionkit/session"
)

// The security activity page (GET /admin/activity) shows what the session
// layer noticed: client changes, session ID guessing, rate limits, CSRF
// refusals, revocations, evictions and account changes. Most of it comes
// from the library's lifecycle events (Config.OnEvent, see observe); the
// rest from the demo's own defences, which call record.
//
// An entry carries the time, the user when there is one, a summary of the
// client ("Chrome 131 on Linux, 192.0.2.7") and the session's store ID,
// which is a SHA-256 of the token: never the token, which the hook never
// sees. Entries live in a bounded ring in this process's memory, so each
// instance shows its own, and a restart forgets them; the per-kind counts of
// the last hour are kept in per-minute buckets beside it, so a flood of one
// kind that pushes older entries out of the ring still counts right.

// activityKind names an entry of the activity page. Each has a message key
// "kind.<kind>".
type activityKind string

const (
	actClientChange activityKind = "client_change" // session.EventClientChanged
	actGuessing     activityKind = "guessing"      // a session ID guessing alert
	actRateLimit    activityKind = "rate_limit"    // a login refused by a rate limit
	actCSRF         activityKind = "csrf"          // a request refused by the CSRF protection
	actRevoked      activityKind = "revoked"       // session.EventRevoked
	actEvicted      activityKind = "evicted"       // session.EventEvicted
	actCapRefused   activityKind = "cap_refused"   // session.EventLimit: a login over the cap
	actDisabled     activityKind = "disabled"      // an admin disabled an account
	actEnabled      activityKind = "enabled"       // an admin enabled an account
)

// activityKinds lists the kinds in the order of the chart.
var activityKinds = []activityKind{
	actClientChange, actGuessing, actRateLimit, actCSRF, actRevoked, actEvicted, actCapRefused, actDisabled, actEnabled,
}

// maxActivity bounds the entries kept for the page.
const maxActivity = 200

// activityEvent is one entry of the activity page.
type activityEvent struct {
	At      time.Time
	Kind    activityKind
	User    string // the user concerned, when known
	By      string // the admin who acted, for admin actions
	Client  string // "Chrome 131 on Linux, 192.0.2.7", or "" outside a request
	Session string // the session's store ID (a SHA-256 of the token), or ""
	// Repeats counts the same entry again within repeatWindow of the
	// first, so that a burst (a script hitting the login limit) takes one
	// line, not the whole ring.
	Repeats int
}

// repeatWindow is how long an entry absorbs its repeats.
const repeatWindow = time.Minute

// same reports whether e repeats o.
func (e activityEvent) same(o activityEvent) bool {
	return e.Kind == o.Kind && e.User == o.User && e.By == o.By && e.Client == o.Client && e.Session == o.Session
}

// LabelKey is the message key of the entry's kind.
func (e activityEvent) LabelKey() string { return "kind." + string(e.Kind) }

// ShortSession is the start of the store ID, enough to tell sessions apart
// and to find the session on the admin page.
func (e activityEvent) ShortSession() string { return e.Session[:min(len(e.Session), 12)] }

// activityLog is the ring of recent entries and the per-minute counts. It is
// safe for concurrent use.
type activityLog struct {
	now func() time.Time

	mu      sync.Mutex
	ring    [maxActivity]activityEvent
	next    int // where the next entry goes
	n       int // entries in the ring
	buckets [60]activityBucket
}

// activityBucket counts the entries of one minute, per kind.
type activityBucket struct {
	minute int64 // Unix minute
	counts map[activityKind]int
}

func newActivityLog(now func() time.Time) *activityLog {
	if now == nil {
		now = time.Now
	}
	return &activityLog{now: now}
}

// record adds an entry, stamped with the current time.
func (l *activityLog) record(e activityEvent) {
	e.At = l.now()
	minute := e.At.Unix() / 60
	l.mu.Lock()
	defer l.mu.Unlock()
	if prev := &l.ring[(l.next-1+maxActivity)%maxActivity]; l.n > 0 && prev.same(e) && e.At.Sub(prev.At) < repeatWindow {
		prev.Repeats++
	} else {
		l.ring[l.next] = e
		l.next = (l.next + 1) % maxActivity
		l.n = min(l.n+1, maxActivity)
	}
	b := &l.buckets[minute%int64(len(l.buckets))]
	if b.minute != minute {
		b.minute, b.counts = minute, map[activityKind]int{}
	}
	b.counts[e.Kind]++
}

// Recent returns the entries, newest first.
func (l *activityLog) Recent() []activityEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]activityEvent, 0, l.n)
	for i := 1; i <= l.n; i++ {
		out = append(out, l.ring[(l.next-i+maxActivity)%maxActivity])
	}
	return out
}

// Counts returns the number of entries of each kind in the last hour (the
// current minute and the 59 before it).
func (l *activityLog) Counts() map[activityKind]int {
	now := l.now().Unix() / 60
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[activityKind]int{}
	for _, b := range l.buckets {
		if b.minute > now-int64(len(l.buckets)) && b.minute <= now {
			for k, n := range b.counts {
				out[k] += n
			}
		}
	}
	return out
}

// observe is the part of the session managers' event hook that feeds the
// page. It runs on the request's goroutine, sometimes while the session is
// locked: it must not call the session package's request functions.
func (l *activityLog) observe(ctx context.Context, e session.Event) {
	var kind activityKind
	switch e.Kind {
	case session.EventClientChanged:
		kind = actClientChange
	case session.EventRevoked:
		kind = actRevoked
	case session.EventEvicted:
		kind = actEvicted
	case session.EventLimit:
		kind = actCapRefused
	default:
		return
	}
	r := e.Request
	if r == nil {
		r = requestOf(ctx) // events of a login or an admin action carry none
	}
	by, _ := ctx.Value(actorKey{}).(string)
	l.record(activityEvent{Kind: kind, User: e.Subject, By: by, Client: clientSummary(r), Session: e.ID})
}

// clientSummary describes the client of r for the page: its browser and
// address (the address key of the rate limits: IPv6 by /64).
func clientSummary(r *http.Request) string {
	if r == nil {
		return ""
	}
	return summarizeUA(r.UserAgent()) + ", " + clientKey(r)
}

// requestKey carries the request in its context, for lifecycle events that
// the library reports without one (a login's eviction, an admin's revoke).
type requestKey struct{}

// actorKey carries the name of the admin on whose behalf sessions end.
type actorKey struct{}

func requestOf(ctx context.Context) *http.Request {
	r, _ := ctx.Value(requestKey{}).(*http.Request)
	return r
}

// withRequest puts the request into its own context (see requestKey).
func withRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), requestKey{}, r)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// Chart geometry, in SVG user units.
const (
	chartLabelWidth = 190
	chartBarWidth   = 320
	chartRowHeight  = 26
	chartBarHeight  = 16
)

// activityChart is the bar chart of the last hour's counts, drawn by the
// template as an inline SVG: no script, no image request.
type activityChart struct {
	Rows                  []chartRow
	Width, Height         int
	LabelX, BarX          int // right edge of the labels, left edge of the bars
	TrackWidth, BarHeight int
}

type chartRow struct {
	Kind     activityKind
	Count    int
	Y, TextY int // top of the bar, baseline of its text
	Width    int // of the bar; at least 2 when Count > 0, so that a one shows
	CountX   int
}

// LabelKey is the message key of the row's kind.
func (r chartRow) LabelKey() string { return "kind." + string(r.Kind) }

func newActivityChart(counts map[activityKind]int) activityChart {
	top := 0
	for _, n := range counts {
		top = max(top, n)
	}
	c := activityChart{Width: chartLabelWidth + chartBarWidth + 60, Height: len(activityKinds) * chartRowHeight,
		LabelX: chartLabelWidth - 8, BarX: chartLabelWidth, TrackWidth: chartBarWidth, BarHeight: chartBarHeight}
	for i, k := range activityKinds {
		row := chartRow{Kind: k, Count: counts[k], Y: i*chartRowHeight + (chartRowHeight-chartBarHeight)/2, TextY: i*chartRowHeight + chartRowHeight/2 + 5}
		if row.Count > 0 {
			row.Width = max(2, row.Count*chartBarWidth/top)
		}
		row.CountX = chartLabelWidth + row.Width + 6
		c.Rows = append(c.Rows, row)
	}
	return c
}

type activityView struct {
	Events []activityEvent
	Chart  activityChart
	Total  int // entries of the last hour
	Policy string
}

// GET /admin/activity: the security activity page. Admins only.
func (a *app) activityPage(w http.ResponseWriter, r *http.Request) {
	if !a.requireAdmin(w, r) {
		return
	}
	counts := a.activity.Counts()
	v := activityView{Events: a.activity.Recent(), Chart: newActivityChart(counts), Policy: a.clientChange}
	for _, n := range counts {
		v.Total += n
	}
	a.render(w, r, http.StatusOK, "activity", "activity.title", v)
}
