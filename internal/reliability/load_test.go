package reliability

// The load: clients with cookie jars reading, incrementing a counter and
// logging in, each checking online that no acknowledged increment went
// missing, and the analysis of what they saw around the faults.

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/session"
)

func isBenign(err error) bool {
	return errors.Is(err, session.ErrNotFound) || errors.Is(err, session.ErrConflict)
}

type opKind uint8

const (
	opRead opKind = iota
	opIncr
	opLogin
)

var opNames = [...]string{opRead: "read", opIncr: "incr", opLogin: "login"}

// sample is one request of the load.
type sample struct {
	op         opKind
	start, end time.Time
	status     int // 0: the request failed without a response (client timeout, connection error)
}

func (s sample) ok() bool { return s.status == http.StatusOK }

// client is one visitor: a cookie jar, and what the server acknowledged.
type client struct {
	id       int
	user     string
	hc       *http.Client
	rng      *rand.Rand
	acked    int  // increments answered 200
	attempts int  // increments sent, whatever the answer
	joined   bool // the client got a session: every later 200 must come with it
	lost     int  // times the client's session went missing
	loginErr bool // the client's last login failed
	recent   []string
}

// remember keeps the client's last few requests, to explain a violation.
func (c *client) remember(l *load, s sample) {
	if len(c.recent) == 6 {
		c.recent = c.recent[1:]
	}
	c.recent = append(c.recent, fmt.Sprintf("%s %d at %v (%v)", opNames[s.op], s.status,
		s.start.Sub(l.t0).Round(time.Millisecond), s.end.Sub(s.start).Round(time.Millisecond)))
}

// load drives an app with concurrent clients.
type load struct {
	t       testing.TB
	t0      time.Time // when the load was created: the origin of the times it reports
	base    string
	tr      *http.Transport
	clients []*client
	stop    chan struct{}
	wg      sync.WaitGroup

	mu          sync.Mutex
	samples     []sample
	violations  []string // the first few
	nViolations int
	noRetry     int      // 503 answers without Retry-After
	lostBy      []string // what the manager did for the clients that lost their session, up to the loss

	obs *observer // what the manager reported, for lostBy; may be nil
}

// newLoad returns n clients of the app at base, each with its own cookie
// jar, sharing one transport that never uses a proxy.
func newLoad(t testing.TB, base string, n int, obs *observer) *load {
	tr := &http.Transport{
		Proxy:               nil,
		MaxIdleConns:        2 * n,
		MaxIdleConnsPerHost: 2 * n,
		IdleConnTimeout:     30 * time.Second,
	}
	l := &load{t: t, t0: time.Now(), base: base, tr: tr, stop: make(chan struct{}), obs: obs}
	for i := range n {
		jar, err := cookiejar.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		l.clients = append(l.clients, &client{
			id:   i,
			user: fmt.Sprintf("user-%d", i),
			hc:   &http.Client{Jar: jar, Transport: tr, Timeout: clientTimeout},
			rng:  rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano()))),
		})
	}
	return l
}

func (l *load) violate(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.nViolations++
	if len(l.violations) < 20 {
		l.violations = append(l.violations, fmt.Sprintf(format, args...))
	}
}

// do sends one request and returns its status (0 when there was no
// response), the counter in the body of a 200 and whether the request came
// with a live session.
func (l *load) do(c *client, op opKind) (s sample, n int, had bool, err error) {
	var req *http.Request
	switch op {
	case opRead:
		req, _ = http.NewRequest(http.MethodGet, l.base+"/read", nil)
	case opIncr:
		req, _ = http.NewRequest(http.MethodPost, l.base+"/incr", nil)
	case opLogin:
		req, _ = http.NewRequest(http.MethodPost, l.base+"/login?user="+url.QueryEscape(c.user), nil)
	}
	req.Header.Set("X-Client", strconv.Itoa(c.id))
	s = sample{op: op, start: time.Now()}
	resp, err := c.hc.Do(req)
	if err != nil {
		s.end = time.Now()
		return s, 0, false, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	s.end, s.status = time.Now(), resp.StatusCode
	if err != nil {
		s.status = 0
		return s, 0, false, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		n, err = strconv.Atoi(strings.TrimSpace(string(body)))
		if err != nil {
			return s, 0, false, fmt.Errorf("body %q: %v", body, err)
		}
		had = resp.Header.Get("X-Had-Session") == "1"
	case http.StatusServiceUnavailable:
		if resp.Header.Get("Retry-After") == "" {
			l.mu.Lock()
			l.noRetry++
			l.mu.Unlock()
		}
	default:
		err = fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return s, n, had, err
}

// step sends one request of kind op and checks the answer against what the
// client knows: a 200 carries a counter at least as high as the increments
// acknowledged so far (one more for an increment), and at most as high as
// the increments sent; a 503 is the expected failure; anything else is a
// violation.
func (l *load) step(c *client, op opKind) sample {
	if op == opIncr {
		c.attempts++
	}
	s, n, had, err := l.do(c, op)
	switch {
	case s.status == 0:
		l.violate("client %d %s: no response after %v: %v", c.id, opNames[op], s.end.Sub(s.start).Round(time.Millisecond), err)
	case s.status == http.StatusServiceUnavailable:
	case err != nil:
		l.violate("client %d %s: %v", c.id, opNames[op], err)
	case !had && c.joined:
		// The client's cookie opened nothing: the request ran in a fresh
		// session. Report it once, and count from the new session on.
		c.lost++
		if l.obs != nil {
			trace := fmt.Sprintf("client %d lost its session at %v; the manager's store calls and events for it until then:%s",
				c.id, s.start.Sub(l.t0).Round(time.Millisecond), l.obs.traceOf(strconv.Itoa(c.id), l.t0))
			l.mu.Lock()
			l.lostBy = append(l.lostBy, trace)
			l.mu.Unlock()
		}
		hint := ""
		if c.loginErr {
			hint = " (its last login answered 503: see TestLoginLostReply)"
		}
		l.violate("client %d %s at %v: 200 without the session: it was lost with its %d acknowledged increments (counter now %d)%s; the client's previous requests: %s",
			c.id, opNames[op], s.start.Sub(l.t0).Round(time.Millisecond), c.acked, n, hint, strings.Join(c.recent, ", "))
		c.acked, c.attempts, c.joined = n, n, false
	default:
		low := c.acked
		if op == opIncr {
			low++
		}
		if n < low || n > c.attempts {
			l.violate("client %d %s at %v: 200 with counter %d; want %d..%d (%d increments acknowledged, %d sent): an acknowledged write was lost; the client's previous requests: %s",
				c.id, opNames[op], s.start.Sub(l.t0).Round(time.Millisecond), n, low, c.attempts, c.acked, c.attempts, strings.Join(c.recent, ", "))
			c.acked, c.attempts = n, max(n, c.attempts) // count from what the server has now
		} else if op == opIncr {
			c.acked++
		}
		c.joined = c.joined || had
	}
	if op == opLogin {
		c.loginErr = !s.ok()
	}
	c.remember(l, s)
	return s
}

// warmUp gives every client a logged-in session with one acknowledged
// increment, so that every later request of the load needs the store.
func (l *load) warmUp() {
	for _, c := range l.clients {
		for _, op := range []opKind{opLogin, opIncr} {
			if s := l.step(c, op); !s.ok() {
				l.t.Fatalf("warm-up: client %d %s answered %d", c.id, opNames[op], s.status)
			}
		}
	}
}

// start runs the clients until stopAndWait: half reads, four in ten
// increments, one in ten logins (each a renewal of the session ID).
func (l *load) start() {
	for _, c := range l.clients {
		l.wg.Go(func() {
			var mine []sample
			defer func() {
				l.mu.Lock()
				l.samples = append(l.samples, mine...)
				l.mu.Unlock()
			}()
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				op := opRead
				switch x := c.rng.IntN(10); {
				case x >= 9:
					op = opLogin
				case x >= 5:
					op = opIncr
				}
				mine = append(mine, l.step(c, op))
				// A little time between requests, as a person takes:
				// the load stays the clients', not the scheduler's.
				time.Sleep(time.Duration(2+c.rng.IntN(6)) * time.Millisecond)
			}
		})
	}
}

func (l *load) stopAndWait() {
	close(l.stop)
	l.wg.Wait()
	slices.SortFunc(l.samples, func(a, b sample) int { return a.start.Compare(b.start) })
}

// verify reads every client's counter once the store is healthy: it holds
// every acknowledged increment, and no more than were sent. It retries for
// a second, in case the last fault is recent.
func (l *load) verify() (acked, sent int) {
	for _, c := range l.clients {
		var (
			s   sample
			n   int
			had bool
			err error
		)
		for deadline := time.Now().Add(recoveryBound); ; {
			s, n, had, err = l.do(c, opRead)
			if s.ok() || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		switch {
		case !s.ok():
			l.violate("final read of client %d: status %d: %v", c.id, s.status, err)
		case !had:
			l.violate("final read of client %d: the session is gone (%d increments acknowledged)", c.id, c.acked)
		case n < c.acked || n > c.attempts:
			l.violate("final read of client %d: counter %d; want %d..%d: an acknowledged increment was lost", c.id, n, c.acked, c.attempts)
		}
		acked += c.acked
		sent += c.attempts
	}
	return acked, sent
}

// lostSessions counts the times a client's session went missing.
func (l *load) lostSessions() int {
	n := 0
	for _, c := range l.clients {
		n += c.lost
	}
	return n
}

// close closes the clients' connections.
func (l *load) close() { l.tr.CloseIdleConnections() }

// report fails the test for each violation, and shows what the manager did
// for the first clients that lost their session.
func (l *load) report(t testing.TB) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, trace := range l.lostBy {
		if i == 3 {
			break
		}
		t.Log(trace)
	}
	for _, v := range l.violations {
		t.Error(v)
	}
	if l.nViolations > len(l.violations) {
		t.Errorf("... %d violations in all", l.nViolations)
	}
	if l.noRetry > 0 {
		t.Errorf("%d answers 503 without Retry-After", l.noRetry)
	}
}

// window is an interval of time.
type window struct{ from, to time.Time }

func (w window) contains(s sample) bool { return !s.start.Before(w.from) && s.end.Before(w.to) }
func (w window) overlaps(s sample) bool { return s.start.Before(w.to) && s.end.After(w.from) }

// stats counts the requests of the load.
type stats struct {
	total, ok, unavailable, other int
	maxFail                       time.Duration // longest failed request
}

func (st stats) String() string {
	return fmt.Sprintf("%d requests: %d ok, %d 503, %d other, slowest failure %v",
		st.total, st.ok, st.unavailable, st.other, st.maxFail.Round(time.Millisecond))
}

func (l *load) stats(keep func(sample) bool) stats {
	var st stats
	for _, s := range l.samples {
		if !keep(s) {
			continue
		}
		st.total++
		switch s.status {
		case http.StatusOK:
			st.ok++
		case http.StatusServiceUnavailable:
			st.unavailable++
		default:
			st.other++
		}
		if !s.ok() {
			st.maxFail = max(st.maxFail, s.end.Sub(s.start))
		}
	}
	return st
}

// checkDown checks that no request lying wholly within w, when the store
// was unreachable, succeeded: the store can only have failed it. It returns
// the counts of the requests that overlapped w.
func (l *load) checkDown(w window) stats {
	for _, s := range l.samples {
		if w.contains(s) && s.ok() {
			l.violate("%s answered 200 at +%v while the store was down", opNames[s.op], s.start.Sub(w.from).Round(time.Millisecond))
		}
	}
	return l.stats(w.overlaps)
}

// quietStats counts the requests that lay wholly within the windows when
// the store was healthy (a second after each fault and before the next).
type quietStats struct {
	total, failed, timedOut int
}

// checkQuiet checks that the requests lying wholly within the windows ws,
// when the store was healthy, succeeded. A request that failed only when it
// reached the application's deadline (requestTimeout) is counted apart:
// with -race on busy cores a request can be starved of CPU that long.
// Those may be at most 5% of the requests; any other failure is a
// violation.
func (l *load) checkQuiet(ws []window) quietStats {
	var st quietStats
	for _, s := range l.samples {
		if !slices.ContainsFunc(ws, func(w window) bool { return w.contains(s) }) {
			continue
		}
		st.total++
		if s.ok() {
			continue
		}
		if s.end.Sub(s.start) >= requestTimeout {
			st.timedOut++
			continue
		}
		st.failed++
		l.violate("%s answered %d after %v, at %v, with the store healthy (before the first fault or %v after the last)", opNames[s.op], s.status,
			s.end.Sub(s.start).Round(time.Millisecond), s.start.Sub(l.t0).Round(time.Millisecond), recoveryBound)
	}
	if st.timedOut*20 > st.total {
		l.violate("%d of %d requests made with the store healthy reached the %v deadline", st.timedOut, st.total, requestTimeout)
	}
	return st
}

// recovery looks at the requests that started at or after back and ended
// before until: it returns how long after back the last of them that failed
// ended (zero when none failed), and how long after back the first of them
// that succeeded ended.
func (l *load) recovery(back, until time.Time) (lastFail, firstOK time.Duration) {
	firstOK = -1
	for _, s := range l.samples {
		if s.start.Before(back) || !s.end.Before(until) {
			continue
		}
		switch {
		case !s.ok():
			lastFail = max(lastFail, s.end.Sub(back))
		case firstOK < 0 || s.end.Sub(back) < firstOK:
			firstOK = s.end.Sub(back)
		}
	}
	return lastFail, firstOK
}

// opStats describes the requests by kind.
func (l *load) opStats() string {
	var parts []string
	for op := range opNames {
		st := l.stats(func(s sample) bool { return s.op == opKind(op) })
		parts = append(parts, fmt.Sprintf("%s %d (%d 503)", opNames[op], st.total, st.unavailable))
	}
	return strings.Join(parts, ", ")
}

// goroutines is the number of goroutines when a test starts, to compare
// with when it has closed everything. It lets the goroutines of the tests
// before settle first (connections closing), for up to half a second.
func goroutines() int {
	n := runtime.NumGoroutine()
	for range 25 {
		time.Sleep(20 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m == n {
			break
		}
		n = m
	}
	return n
}

// checkLeaks waits up to five seconds for the number of goroutines to fall
// back to baseline, and fails the test with their stacks otherwise.
func checkLeaks(t testing.TB, baseline int) {
	t.Helper()
	start := time.Now()
	for {
		n := runtime.NumGoroutine()
		if n <= baseline {
			t.Logf("goroutines: %d at the start, %d at the end (settled in %v)", baseline, n, time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Since(start) > 5*time.Second {
			var b strings.Builder
			pprof.Lookup("goroutine").WriteTo(&b, 1)
			t.Errorf("goroutine leak: %d goroutines at the start, %d five seconds after everything was closed:\n%s", baseline, n, b.String())
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// soakDuration returns the duration of the soak, from SESSION_SOAK, or skips.
func soakDuration(t *testing.T) time.Duration {
	v := os.Getenv("SESSION_SOAK")
	if v == "" {
		t.Skip("set SESSION_SOAK=<duration> (for example 2m) to run the soak")
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("SESSION_SOAK=%q: want a positive duration such as 2m", v)
	}
	return d
}
