package modeltest

import (
	"context"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/sessionkit/session"
)

// The state machine: rapid draws the next action (start a request, let a
// parked one commit, jump the clock, plant a token, revoke), the harness
// performs it, and the model checks what the clients saw; after every
// action the model also reads every known ID from the store.

var invariantsFlag = flag.String("invariants", "", "comma-separated invariants to check (default all: "+joinInvariants(allInvariants)+")")

// The session policy of the runs: short enough that clock jumps cross each
// boundary (touch interval < grace < idle timeout < absolute timeout).
const (
	idleTimeout   = 30 * time.Minute
	touchInterval = time.Minute
	renewGrace    = 2 * time.Minute
	maxPending    = 5              // requests in flight at once
	sizeBound     = 4096           // MaxRecordBytes, when Config has it
	clockBudget   = 12 * time.Hour // total clock advance of a run, well inside the absolute timeout
)

// jump draws a clock step: within the touch interval (most often), past it
// but within the renewal grace, past the grace, or past the idle timeout
// (rarely: it ends every session).
func jump(t *rapid.T) time.Duration {
	switch n := rapid.IntRange(0, 9).Draw(t, "jump"); {
	case n < 4:
		return 10 * time.Second
	case n < 7:
		return 70 * time.Second
	case n < 9:
		return 3 * time.Minute
	default:
		return idleTimeout + time.Minute
	}
}

// budget is how many rapid checks (runs) a store does in the bounded form,
// and rapid's average number of actions per run, chosen so that the three
// stores take about a minute in all under -race on a two-core machine.
type budget struct {
	checks int
	steps  int
}

// stats counts what the runs exercised.
type stats struct {
	runs, steps, requests, stale, overlaps, revokes, jumps int
	traces                                                 map[uint64]bool
}

// env is what a store wiring hands to the machine: the clock the store and
// the manager run on, and fresh, which returns an empty store for a run.
// Every run starts at baseTime on an empty store, so a replay prints the
// same times and names, and the clock never runs far (memstore counts Unix
// nanoseconds, which end in 2262).
type env struct {
	clock *clock
	fresh func() (session.Store, error)
}

// runModel runs the state machine against store for the store's budget, or
// for SESSION_SOAK when it is set.
func runModel(t *testing.T, e env, b budget) {
	check := invariantsToCheck(t)
	restore := setRapidDefaults(b)
	defer restore()
	st := &stats{traces: map[uint64]bool{}}
	start := time.Now()
	defer func() { // also when a check failed: the counts say how far it got
		t.Logf("%d runs, %d steps, %d requests (%d with an old token), %d commits while another request of the same session was parked, %d revokes, %d clock jumps; %d distinct interleavings; %v",
			st.runs, st.steps, st.requests, st.stale, st.overlaps, st.revokes, st.jumps, len(st.traces), time.Since(start).Round(time.Millisecond))
	}()
	prop := func(rt *rapid.T) { runOnce(rt, e, st, check) }
	if setMaxRecordBytes(&session.Config{}, sizeBound) == 0 {
		t.Logf("session.Config has no MaxRecordBytes: the size invariant is not checked")
	}
	soak := soakDuration(t)
	for {
		rapid.Check(t, prop)
		if soak == 0 || time.Since(start) > soak || t.Failed() {
			break
		}
	}
}

// run is the state of one rapid check.
type run struct {
	t       *rapid.T
	e       env
	store   session.Store
	st      *stats
	mgr     *session.Manager
	h       *harness
	m       *model
	clients map[string]*client
	names   []string
	pending []*request
	listed  []string // IDs listed by Manager.Sessions, for a later Revoke
	n       int      // requests so far
	started time.Time
	trace   []string
	dirty   bool // an action did something since the last check
}

func runOnce(rt *rapid.T, e env, st *stats, check map[invariant]bool) {
	st.runs++
	e.clock.set(baseTime)
	store, err := e.fresh()
	if err != nil {
		rt.Fatalf("a fresh store: %v", err)
	}
	cfg := session.Config{
		IdleTimeout:   idleTimeout,
		TouchInterval: touchInterval,
		RenewGrace:    renewGrace,
		Now:           e.clock.Now,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	bound := setMaxRecordBytes(&cfg, sizeBound)
	mgr, err := session.New(store, cfg)
	if err != nil {
		rt.Fatalf("session.New: %v", err)
	}
	r := &run{t: rt, e: e, store: store, st: st, mgr: mgr, started: e.clock.Now(), clients: map[string]*client{}}
	r.m = newModel(mgr.Config(), bound, r.started, check, rt.Fatalf, rt.Logf)
	r.h = newHarness(mgr, r.m.known)
	defer func() {
		r.h.stop(r.pending)
		sum := fnv.New64a()
		io.WriteString(sum, strings.Join(r.trace, "\n"))
		st.traces[sum.Sum64()] = true
	}()

	victimOps := []op{opRead, opPut, opUpdate, opLogin, opRenew, opDestroy, opRevokeDevice}
	attackerOps := []op{opRead, opPut, opUpdate}
	if bound > 0 {
		victimOps = append(victimOps, opPutBig)
		attackerOps = append(attackerOps, opPutBig)
	}
	for i, c := range []*client{
		// In the order rapid favours: alice's devices and the attacker
		// most, bob (who only checks that nothing spills over) least.
		{name: "alice1", subject: "alice", ops: victimOps},
		{name: "mallory", ops: attackerOps},
		{name: "alice2", subject: "alice", ops: victimOps},
		{name: "bob", subject: "bob", ops: victimOps},
	} {
		c.addr = fmt.Sprintf("192.0.2.%d:4%d000", 10+i, i)
		c.agent = "modeltest/" + c.name
		r.clients[c.name] = c
		r.names = append(r.names, c.name)
	}

	rt.Repeat(map[string]func(*rapid.T){
		"start":   r.start,
		"burst":   r.burst,
		"resend":  r.resend,
		"advance": r.advance,
		"clock":   r.clock,
		"plant":   r.plant,
		"revoke":  r.revoke,
		"":        r.check,
	})
}

func (r *run) step(format string, args ...any) {
	r.st.steps++
	r.dirty = true
	line := fmt.Sprintf(format, args...)
	r.trace = append(r.trace, line)
	r.t.Logf("%s %s", r.e.clock.Now().Sub(r.started).Round(time.Second), line)
}

// Every action draws the same values whatever the state, and does nothing
// when it does not apply (too many requests in flight, none of that client
// in flight, no old token): so one action's draws never shift the next
// one's, and rapid shrinks a failing sequence by removing actions one at a
// time.

// start sends a request from a client with the cookie in its jar, and
// parks it after its load.
func (r *run) start(t *rapid.T) {
	c := r.drawClient(t, "client")
	req := r.drawRequest(t, c)
	if len(r.pending) >= maxPending {
		return
	}
	r.send(t, req, c.jar, false)
}

// burst sends two requests at once from one client with the cookie in its
// jar (a page firing parallel requests, two tabs).
func (r *run) burst(t *rapid.T) {
	c := r.drawClient(t, "client")
	first, second := r.drawRequest(t, c), r.drawRequest(t, c)
	if len(r.pending) > maxPending-2 {
		return
	}
	r.send(t, first, c.jar, false)
	r.send(t, second, c.jar, false)
}

// resend sends a request with a token the client held before (a request
// sent before a renewal's Set-Cookie arrived, a restored tab).
func (r *run) resend(t *rapid.T) {
	c := r.drawClient(t, "client")
	which := rapid.IntRange(0, 7).Draw(t, "which old token")
	req := r.drawRequest(t, c)
	var old []string
	for _, tok := range c.history {
		if tok != c.jar {
			old = append(old, tok)
		}
	}
	if len(old) == 0 || len(r.pending) >= maxPending {
		return
	}
	r.send(t, req, old[which%len(old)], true)
}

func (r *run) drawClient(t *rapid.T, label string) *client {
	return r.clients[rapid.SampledFrom(r.names).Draw(t, label)]
}

// drawRequest draws what a request of c will do.
func (r *run) drawRequest(t *rapid.T, c *client) *request {
	req := &request{client: c, op: rapid.SampledFrom(c.ops).Draw(t, "op")}
	switch req.op {
	case opRevokeDevice:
		req.pick = rapid.IntRange(0, 3).Draw(t, "device")
	case opPutBig:
		// A quarter of the bound (a few of them add up), a value that
		// brings the record near the bound once metadata is counted, or
		// twice the bound.
		switch rapid.SampledFrom([]string{"quarter", "near", "double"}).Draw(t, "size") {
		case "quarter":
			req.pick = sizeBound / 4
		case "near":
			req.pick = rapid.IntRange(sizeBound-250, sizeBound-50).Draw(t, "bytes")
		case "double":
			req.pick = 2 * sizeBound
		}
	}
	return req
}

// send starts req with token and parks it after its load.
func (r *run) send(t *rapid.T, req *request, token string, stale bool) {
	r.n++
	req.n, req.token, req.stale, req.marker = r.n, token, stale, "p"+strconv.Itoa(r.n)
	if stale {
		r.st.stale++
	}
	req.loadedAt = r.e.clock.Now()
	if err := r.h.send(req); err != nil {
		t.Fatal(err)
	}
	r.st.requests++
	r.m.loaded(req, req.loadedAt)
	r.pending = append(r.pending, req)
	what := "loaded " + r.m.name(req.seen.ID)
	switch {
	case !req.parked:
		what = fmt.Sprintf("failed to load (%d)", req.rec.Code)
	case req.seen.ID != "":
		what += fmt.Sprintf(" as %q, keys %v, counter %d", req.seen.Subject, req.seen.Keys, req.seen.Counter)
	}
	old := ""
	if stale {
		old = " (an old token)"
	}
	r.step("#%d %s %s with %s%s: %s", req.n, req.client.name, req.op, r.m.name(idOf(token)), old, what)
}

// advance lets one parked request of a client make its change and commit.
// Choosing by client keeps the choice stable when rapid shrinks away other
// clients' requests.
func (r *run) advance(t *rapid.T) {
	c := r.drawClient(t, "client")
	which := rapid.IntRange(0, maxPending-1).Draw(t, "which of its requests")
	var mine []int
	for i, req := range r.pending {
		if req.client == c {
			mine = append(mine, i)
		}
	}
	if len(mine) == 0 {
		return
	}
	i := mine[which%len(mine)]
	req := r.pending[i]
	r.pending = append(r.pending[:i:i], r.pending[i+1:]...)
	for _, other := range r.pending {
		if req.lin != nil && other.lin == req.lin {
			r.st.overlaps++
			break
		}
	}
	a, err := r.h.release(req)
	if err != nil {
		t.Fatal(err)
	}
	now := r.e.clock.Now()
	r.m.answered(req, a, now)
	if a.cookieSet {
		req.client.hold(a.token)
	}
	var got string
	switch {
	case a.reply == nil:
		got = fmt.Sprintf("error page %d", a.status)
	case a.acked(req.op):
		got = "acknowledged"
	default:
		got = "not acknowledged (" + strings.TrimPrefix(a.reply.OpErr+" "+a.reply.CommitErr, " ") + ")"
	}
	if a.reply != nil {
		got += ", session " + r.m.name(a.reply.FinalID)
		if a.reply.Revoked != "" {
			got += ", revoked " + r.m.name(a.reply.Revoked)
		}
	}
	if a.cookieSet {
		got += ", cookie " + r.m.name(idOf(a.token))
	}
	r.step("#%d %s %s commits: %s", req.n, req.client.name, req.op, got)
}

// clock moves the time forward.
func (r *run) clock(t *rapid.T) {
	d := jump(t)
	if r.e.clock.Now().Add(d).Sub(r.started) > clockBudget {
		return // the run's clock budget is spent
	}
	r.e.clock.advance(d)
	r.st.jumps++
	r.step("clock +%v", d)
}

// plant puts the attacker's token into a victim's jar (session fixation
// through a subdomain or an injected cookie).
func (r *run) plant(t *rapid.T) {
	victim := r.clients[rapid.SampledFrom([]string{"alice1", "alice2", "bob"}).Draw(t, "victim")]
	attacker := r.clients["mallory"]
	if attacker.jar == "" {
		return
	}
	victim.hold(attacker.jar)
	r.step("mallory plants %s in %s's jar", r.m.name(idOf(attacker.jar)), victim.name)
}

// revoke lists a user's sessions, revokes one listed earlier (a renewal may
// have moved it since), or revokes all of a user's sessions.
func (r *run) revoke(t *rapid.T) {
	ctx := context.Background()
	kind := rapid.SampledFrom([]string{"list", "revoke listed", "revoke subject"}).Draw(t, "revoke")
	subject := r.clients[rapid.SampledFrom([]string{"alice1", "bob"}).Draw(t, "user")].subject
	which := rapid.IntRange(0, 15).Draw(t, "which listed")
	now := r.e.clock.Now()
	switch kind {
	case "list":
		list, err := r.mgr.Sessions(ctx, subject)
		if err != nil {
			t.Fatalf("Sessions: %v", err)
		}
		var names []string
		for _, s := range list {
			if r.m.known(s.ID) && !slices.Contains(r.listed, s.ID) {
				r.listed = append(r.listed, s.ID)
				names = append(names, r.m.name(s.ID))
			}
		}
		r.step("Sessions(%s) lists %v", subject, names)
	case "revoke listed":
		if len(r.listed) == 0 {
			return
		}
		id := r.listed[which%len(r.listed)]
		err := r.mgr.Revoke(ctx, id)
		r.st.revokes++
		if err == nil {
			r.m.ended(id, r.m.subjectOf(id), now, "Revoke("+r.m.name(id)+")")
		}
		r.step("Revoke(%s): %v", r.m.name(id), err)
	case "revoke subject":
		n, err := r.mgr.RevokeSubject(ctx, subject)
		r.st.revokes++
		if err == nil {
			r.m.revokedSubject(subject)
		}
		r.step("RevokeSubject(%s): %d, %v", subject, n, err)
	}
}

// check reads the store after every action that did something.
func (r *run) check(t *rapid.T) {
	if !r.dirty {
		return
	}
	r.dirty = false
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	r.m.checkStore(r.e.clock.Now(), func(id string) (*session.Record, error) { return r.store.Load(ctx, id) })
}

// setMaxRecordBytes sets cfg.MaxRecordBytes to n if session.Config has
// that field, so the test compiles against a library with or without it,
// and returns the bound in effect (0 when there is none).
func setMaxRecordBytes(cfg *session.Config, n int) int {
	f := reflect.ValueOf(cfg).Elem().FieldByName("MaxRecordBytes")
	if !f.IsValid() || !f.CanSet() {
		return 0
	}
	switch f.Kind() {
	case reflect.Int, reflect.Int32, reflect.Int64:
		f.SetInt(int64(n))
	case reflect.Uint, reflect.Uint32, reflect.Uint64:
		f.SetUint(uint64(n))
	default:
		return 0
	}
	return n
}

func invariantsToCheck(t *testing.T) map[invariant]bool {
	check := map[invariant]bool{}
	if *invariantsFlag == "" {
		for _, inv := range allInvariants {
			check[inv] = true
		}
		return check
	}
	for _, name := range strings.Split(*invariantsFlag, ",") {
		inv := invariant(strings.TrimSpace(name))
		if !slices.Contains(allInvariants, inv) {
			t.Fatalf("-invariants: unknown invariant %q (have %s)", inv, joinInvariants(allInvariants))
		}
		check[inv] = true
	}
	t.Logf("checking only %s", *invariantsFlag)
	return check
}

func joinInvariants(list []invariant) string {
	s := make([]string, len(list))
	for i, inv := range list {
		s[i] = string(inv)
	}
	return strings.Join(s, ",")
}

var userFlags = sync.OnceValue(func() map[string]bool {
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
})

// setRapidDefaults applies the store's budget to rapid's flags unless the
// command line or the environment chose them, and returns how to undo it.
func setRapidDefaults(b budget) func() {
	var undo []func()
	for name, v := range map[string]int{"checks": b.checks, "steps": b.steps} {
		fl := "rapid." + name
		if userFlags()[fl] || os.Getenv("RAPID_"+strings.ToUpper(name)) != "" {
			continue
		}
		old := flag.Lookup(fl).Value.String()
		flag.Set(fl, strconv.Itoa(v))
		undo = append(undo, func() { flag.Set(fl, old) })
	}
	return func() {
		for _, f := range undo {
			f()
		}
	}
}

// soakDuration is SESSION_SOAK (internal/reliability's convention), or 0.
func soakDuration(t *testing.T) time.Duration {
	v := os.Getenv("SESSION_SOAK")
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("SESSION_SOAK=%q: want a duration such as 2m", v)
	}
	return d
}

// unreachable ends the test because the service named by variable cannot be
// reached: a skip, or a failure under CI (internal/testenv's rule, which
// another module cannot import).
func unreachable(t *testing.T, variable, addr string, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s=%s unreachable under CI: %v", variable, addr, err)
	}
	t.Skipf("%s=%s unreachable (set %s to run this test): %v", variable, addr, variable, err)
}

// service returns the address of the service named by variable, or def.
func service(variable, def string) string {
	if v := os.Getenv(variable); v != "" {
		return v
	}
	return def
}

// baseTime starts every run's clock at a whole second, which every store
// keeps exactly.
var baseTime = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
