package modeltest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sessionkit/session"
)

// The harness: a fake clock, clients with cookie jars, and requests that run
// the real middleware on their own goroutines and park at a gate inside the
// handler, so that the state machine decides which one moves next.

// safety bounds every wait for a request. A correct step takes milliseconds;
// reaching the bound means a request blocked on another one that is parked,
// and the test fails loudly instead of waiting on luck.
const safety = 15 * time.Second

// clock is the injected time of the manager and of the store.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// op is what a request does after it loaded its session.
type op string

const (
	opRead         op = "read"         // nothing: a read-only request, which may touch
	opPut          op = "put"          // Put a key of its own (its marker)
	opPutBig       op = "putBig"       // Put a large value (only with MaxRecordBytes)
	opUpdate       op = "update"       // Update the counter by one
	opLogin        op = "login"        // Login as the client's user
	opRenew        op = "renew"        // Renew
	opDestroy      op = "destroy"      // Destroy: logout
	opRevokeDevice op = "revokeDevice" // RevokeDevice of another session of the user
)

const counterKey = "n"

// client is a browser: the one session cookie it sends, and every token it
// ever held, which it may resend (a request sent before a renewal's
// Set-Cookie arrived, a restored tab).
type client struct {
	name    string
	subject string // whom it logs in as; "" for the attacker
	addr    string
	agent   string
	ops     []op
	jar     string
	history []string
}

func (c *client) hold(token string) {
	c.jar = token
	if token != "" && !slices.Contains(c.history, token) {
		c.history = append(c.history, token)
	}
}

// request is one HTTP request in flight.
type request struct {
	n      int
	client *client
	op     op
	token  string // the cookie it carries; "" for none
	stale  bool   // an old token resent on purpose
	pick   int    // revokeDevice: which other session; putBig: the value's size
	marker string // put, putBig: the key it writes, also its value

	loadedAt time.Time // the clock when it loaded: the request's time
	seen     view      // what the handler saw after loading
	parked   bool      // it reached the gate (it did not fail while loading)
	lin      *lineage  // the session it loaded; nil when none (set by the model)

	gate    chan view
	proceed chan struct{}
	done    chan struct{}
	rec     *httptest.ResponseRecorder
}

// view is what the handler read after loading, before its change.
type view struct {
	ID      string
	Subject string
	Keys    []string
	Counter int
	Devices []string // revokeDevice: the user's other sessions, as listed
	Err     string
}

// reply is the handler's answer, the only way the client learns whether its
// change was acknowledged.
type reply struct {
	OpErr     string `json:"op_err,omitempty"`
	CommitErr string `json:"commit_err,omitempty"`
	FinalID   string `json:"final_id"`
	Revoked   string `json:"revoked,omitempty"`
}

// answer is what the client got back: the reply (nil if the response was an
// error page) and the session cookie, if the response set one.
type answer struct {
	status    int
	reply     *reply
	cookieSet bool
	token     string // "" when the cookie was expired
}

// acked reports whether the request's change was acknowledged: the handler
// says its operation and session.Commit both returned nil. RevokeDevice acts
// at once, so only its own result counts.
func (a answer) acked(o op) bool {
	if a.reply == nil || a.reply.OpErr != "" {
		return false
	}
	return o == opRevokeDevice || a.reply.CommitErr == ""
}

type requestKey struct{}

// harness serves requests through one manager.
type harness struct {
	mgr    *session.Manager
	cookie string
	h      http.Handler
	known  func(id string) bool // IDs the model knows; others are orphans
	abort  chan struct{}        // closed at the end of a run: parked requests return
}

func newHarness(mgr *session.Manager, known func(string) bool) *harness {
	h := &harness{mgr: mgr, cookie: mgr.Config().Cookie.Name, known: known, abort: make(chan struct{})}
	h.h = mgr.Handler(http.HandlerFunc(h.serve))
	return h
}

// serve is the application: it loads the session, reports what it saw,
// parks, then makes its change, commits and answers whether the commit
// succeeded.
func (h *harness) serve(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	req := ctx.Value(requestKey{}).(*request)
	v := view{ID: session.ID(ctx)} // the first use loads the session
	v.Subject = session.Subject(ctx)
	keys, err := session.Keys(ctx)
	if err != nil {
		v.Err = err.Error()
	}
	for _, k := range keys {
		if k != counterKey {
			v.Keys = append(v.Keys, k)
		}
	}
	v.Counter, _ = session.Get[int](ctx, counterKey)
	if req.op == opRevokeDevice {
		devices, _ := session.Devices(ctx)
		for _, d := range devices {
			// Orphans (records a failed commit left for its background
			// clean-up) are nobody's device: leaving them out keeps the
			// choice reproducible.
			if !d.Current && h.known(d.ID) {
				v.Devices = append(v.Devices, d.ID)
			}
		}
	}
	req.gate <- v
	select {
	case <-req.proceed:
	case <-h.abort:
		return
	}

	var rep reply
	var opErr error
	switch req.op {
	case opRead:
	case opPut:
		opErr = session.Put(ctx, req.marker, req.marker)
	case opPutBig:
		opErr = session.Put(ctx, req.marker, strings.Repeat("x", req.pick))
	case opUpdate:
		_, opErr = session.Update(ctx, counterKey, func(n int) (int, error) { return n + 1, nil })
	case opLogin:
		opErr = session.Login(ctx, req.client.subject)
	case opRenew:
		opErr = session.Renew(ctx)
	case opDestroy:
		opErr = session.Destroy(ctx)
	case opRevokeDevice:
		if len(v.Devices) == 0 {
			opErr = errors.New("no other device listed")
			break
		}
		rep.Revoked = v.Devices[req.pick%len(v.Devices)]
		opErr = session.RevokeDevice(ctx, rep.Revoked)
	}
	if opErr != nil {
		rep.OpErr = opErr.Error()
	}
	if err := session.Commit(ctx); err != nil {
		rep.CommitErr = err.Error()
	}
	rep.FinalID = session.ID(ctx)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(rep)
}

// send starts req on its own goroutine and waits until it is parked at the
// gate (or answered without reaching it, when its load failed).
func (h *harness) send(req *request) error {
	req.gate = make(chan view, 1)
	req.proceed = make(chan struct{})
	req.done = make(chan struct{})
	req.rec = httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "https://app.example/", nil)
	r.RemoteAddr = req.client.addr
	r.Header.Set("User-Agent", req.client.agent)
	if req.token != "" {
		r.Header.Set("Cookie", h.cookie+"="+req.token)
	}
	r = r.WithContext(context.WithValue(r.Context(), requestKey{}, req))
	go func() {
		defer close(req.done)
		h.h.ServeHTTP(req.rec, r)
	}()
	select {
	case req.seen = <-req.gate:
		req.parked = true
		return nil
	case <-req.done:
		return nil
	case <-time.After(safety):
		return fmt.Errorf("request #%d did not reach its gate within %v:\n%s", req.n, safety, stacks())
	}
}

// release lets a parked request make its change and commit, waits for its
// response, and returns what the client got.
func (h *harness) release(req *request) (answer, error) {
	if req.parked {
		close(req.proceed)
	}
	select {
	case <-req.done:
	case <-time.After(safety):
		return answer{}, fmt.Errorf("request #%d did not answer within %v of its release:\n%s", req.n, safety, stacks())
	}
	res := req.rec.Result()
	a := answer{status: res.StatusCode}
	for _, line := range res.Header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil || c.Name != h.cookie {
			continue
		}
		a.cookieSet = true
		a.token = c.Value
		if c.MaxAge < 0 {
			a.token = ""
		}
	}
	var rep reply
	if res.StatusCode == http.StatusOK && json.NewDecoder(res.Body).Decode(&rep) == nil {
		a.reply = &rep
	}
	return a, nil
}

// stop releases every parked request without a change (they answer nothing
// the model uses) and waits for them.
func (h *harness) stop(pending []*request) {
	close(h.abort)
	for _, req := range pending {
		select {
		case <-req.done:
		case <-time.After(safety):
		}
	}
}

func stacks() string {
	buf := make([]byte, 1<<16)
	return string(buf[:runtime.Stack(buf, true)])
}
