package modeltest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sessionkit/session"
)

// The reference model: what a correct session manager must show, learned
// only from what clients see (cookies, the handler's answers) and from
// reading the store directly. It never looks inside the manager, and it
// claims only what the server could know: a logout through an old token
// kills the session only while that token's tombstone still exists
// (RenewGrace after its renewal).

// invariant names a property the model checks.
type invariant string

const (
	invLost     invariant = "lost"     // no acknowledged write lost
	invLogout   invariant = "logout"   // nothing readable after an acknowledged logout or revoke
	invStale    invariant = "stale"    // a renewed-away token opens nothing
	invCrossing invariant = "crossing" // no change crosses a subject change
	invDeadline invariant = "deadline" // LastActive and IdleDeadline never decrease for one ID
	invSize     invariant = "size"     // no record over Config.MaxRecordBytes
)

var allInvariants = []invariant{invLost, invLogout, invStale, invCrossing, invDeadline, invSize}

// lineage is one session across its renewals: every store ID it had, and
// what the clients were told about it.
type lineage struct {
	n        int
	ids      []string // oldest first; the last is the one clients should use
	subject  string
	ended    string    // what ended it (an acknowledged logout or revoke); "" while it lives
	expired  bool      // its deadline passed: no more claims
	deadline time.Time // when it expires, as last read from the store

	acked     map[string]bool      // markers of acknowledged Puts
	forbidden map[string]forbidden // markers that must never be readable in it
	incAcked  int                  // acknowledged increments of the counter
	incMay    int                  // increments that may have landed (acknowledged or not)
	incCross  int                  // increments from requests that crossed a subject change
}

type forbidden struct {
	inv invariant
	why string
}

func (l *lineage) current() string { return l.ids[len(l.ids)-1] }
func (l *lineage) live() bool      { return l.ended == "" && !l.expired }

// idState is what the model knows of one store ID.
type idState struct {
	lin  *lineage
	name string // "L3.1": lineage 3, its second ID; tokens never reach the log
	// renewedAt is the clock when the request that renewed this ID away
	// committed (the tombstone lives RenewGrace from then); zero while it is
	// current.
	renewedAt time.Time
	// subject is whose session it was when it was renewed away.
	subject string
	// The last live (non-tombstone) record read under this ID.
	seen       bool
	lastActive time.Time
	idle       time.Time
	version    uint64
}

// model is the reference model of one run.
type model struct {
	fatalf    func(format string, args ...any)
	logf      func(format string, args ...any)
	check     map[invariant]bool
	cfg       session.Config
	sizeBound int
	start     time.Time // the run's start: messages show times from it, so a replay prints the same
	blind     bool      // an unchecked violation made the model unreliable for the rest of the run
	lins      []*lineage
	ids       map[string]*idState
}

func newModel(cfg session.Config, sizeBound int, start time.Time, check map[invariant]bool, fatalf, logf func(string, ...any)) *model {
	return &model{fatalf: fatalf, logf: logf, check: check, cfg: cfg, sizeBound: sizeBound, start: start, ids: map[string]*idState{}}
}

// at shows a time as the run's clock: "+31m10s".
func (m *model) at(t time.Time) string { return "+" + t.Sub(m.start).String() }

// violated fails the run if inv is checked; otherwise it only logs. After
// an unchecked violation of lost, logout or stale the model no longer knows
// what the sessions hold (a session it holds ended lives on, say), so it
// stops judging the run rather than blame the next invariant for it.
func (m *model) violated(inv invariant, format string, args ...any) {
	if m.blind {
		return
	}
	msg := fmt.Sprintf("invariant %s violated: "+format, append([]any{inv}, args...)...)
	if m.check[inv] {
		m.fatalf("%s", msg)
		return
	}
	m.logf("(not checked) %s", msg)
	switch inv {
	case invLost, invLogout, invStale:
		m.blind = true
		m.logf("(the model stops judging this run)")
	}
}

// idOf is the store ID of a token: the hex SHA-256 of its 32 bytes.
func idOf(token string) string {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if token == "" || err != nil {
		return ""
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// name is how logs show an ID.
func (m *model) name(id string) string {
	switch st := m.ids[id]; {
	case id == "":
		return "none"
	case st == nil:
		return "unknown:" + id[:8]
	default:
		return st.name
	}
}

func (m *model) known(id string) bool { return m.ids[id] != nil }

func (m *model) newLineage(id string, subject string, expires time.Time) *lineage {
	l := &lineage{n: len(m.lins) + 1, subject: subject, deadline: expires, acked: map[string]bool{}, forbidden: map[string]forbidden{}}
	m.lins = append(m.lins, l)
	m.addID(l, id)
	return l
}

func (m *model) addID(l *lineage, id string) {
	l.ids = append(l.ids, id)
	m.ids[id] = &idState{lin: l, name: fmt.Sprintf("L%d.%d", l.n, len(l.ids)-1)}
}

// tombstoneLive reports whether the server can still tell where the ID's
// session went at now: it is current, or it was renewed less than
// RenewGrace ago.
func (m *model) tombstoneLive(st *idState, now time.Time) bool {
	return st.renewedAt.IsZero() || now.Before(st.renewedAt.Add(m.cfg.RenewGrace))
}

// loaded checks what a request saw right after loading, and records which
// session it loaded.
func (m *model) loaded(req *request, now time.Time) {
	if !req.parked {
		return
	}
	v, tokID := req.seen, idOf(req.token)
	if v.ID != "" && v.ID != tokID {
		m.violated(invStale, "request #%d with token %s loaded another session, %s", req.n, m.name(tokID), m.name(v.ID))
		return
	}
	st := m.ids[tokID]
	if st == nil {
		if v.ID != "" {
			m.fatalf("model: request #%d loaded %s, a session no client was told about", req.n, m.name(v.ID))
		}
		return
	}
	l := st.lin
	switch {
	case l.ended != "":
		if v.ID != "" || len(v.Keys) > 0 || v.Counter != 0 {
			m.violated(invLogout, "request #%d with %s read session %s (keys %v, counter %d), which ended with %s",
				req.n, st.name, m.name(v.ID), v.Keys, v.Counter, l.ended)
		}
		return
	case !st.renewedAt.IsZero():
		if v.ID != "" {
			m.violated(invStale, "request #%d with %s, renewed away earlier, loaded it (keys %v)", req.n, st.name, v.Keys)
		}
		return
	case v.ID == "":
		if l.live() && now.Before(l.deadline) {
			m.violated(invLost, "request #%d with %s, the current ID of a live session (expires %v), loaded nothing",
				req.n, st.name, m.at(l.deadline))
		}
		return
	}
	req.lin = l
	if !l.live() || !now.Before(l.deadline) {
		return
	}
	where := fmt.Sprintf("request #%d loading %s", req.n, st.name)
	m.checkContents(l, where, v.Subject, v.Keys, v.Counter)
}

// checkContents checks what a live session holds against what clients were
// told about it.
func (m *model) checkContents(l *lineage, where, subject string, keys []string, counter int) {
	for _, k := range slices.Sorted(maps.Keys(l.acked)) { // sorted: a replay must print the same
		if !slices.Contains(keys, k) {
			m.violated(invLost, "%s: the acknowledged Put of %q is missing (keys %v)", where, k, keys)
		}
	}
	for _, k := range keys {
		if f, ok := l.forbidden[k]; ok {
			m.violated(f.inv, "%s: key %q is there, written by %s", where, k, f.why)
		}
	}
	switch {
	case counter < l.incAcked:
		m.violated(invLost, "%s: counter is %d, but %d increments were acknowledged", where, counter, l.incAcked)
	case counter > l.incMay && l.incCross > 0:
		m.violated(invCrossing, "%s: counter is %d, but only %d increments may land; %d came from requests that loaded it before a change of subject",
			where, counter, l.incMay, l.incCross)
	case counter > l.incMay:
		m.violated(invLost, "%s: counter is %d, but only %d increments were made: one was applied twice", where, counter, l.incMay)
	}
	if subject != l.subject {
		m.violated(invLost, "%s: subject is %q, but the last acknowledged login made it %q", where, subject, l.subject)
	}
}

// answered applies what a request's client learned from its response, at
// now, the clock when it committed.
func (m *model) answered(req *request, a answer, now time.Time) {
	l := req.lin
	acked := a.acked(req.op)
	// A write crosses a change of subject when the session it loaded now
	// belongs to someone else than when it loaded it.
	crossed := ""
	if l != nil && l.ended == "" && l.subject != req.seen.Subject {
		crossed = fmt.Sprintf("request #%d (%s %s), which loaded it as %q before it became %q's",
			req.n, req.client.name, req.op, req.seen.Subject, l.subject)
	}

	// Where did the session end up? A token or ID never seen before
	// belongs to the session the request loaded (a renewal), or is a new
	// session when it loaded none.
	var final string
	if a.reply != nil {
		final = a.reply.FinalID
	}
	for _, id := range []string{final, idOf(a.token)} {
		if id == "" || m.known(id) {
			continue
		}
		expires := now.Add(m.cfg.IdleTimeout) // the manager reads its clock again at commit
		switch {
		case l == nil:
			m.newLineage(id, "", expires)
		case l.ended != "":
			// The session ended while this request ran; what it created
			// is a session of its own, which must hold nothing of the
			// ended one.
			heir := m.newLineage(id, l.subject, expires)
			for k := range l.acked {
				heir.forbidden[k] = forbidden{invLogout, fmt.Sprintf("session L%d, which ended with %s", l.n, l.ended)}
			}
			for k, f := range l.forbidden {
				heir.forbidden[k] = f
			}
			m.logf("  request #%d created %s after its session L%d ended", req.n, m.name(id), l.n)
		default:
			prev := m.ids[l.current()]
			prev.renewedAt, prev.subject = now, l.subject
			m.addID(l, id)
			l.deadline = expires // the new record's, set by the renewing request
		}
	}
	target := l
	if st := m.ids[final]; st != nil {
		target = st.lin
	}

	switch {
	case req.op == opUpdate && crossed != "":
		l.incCross++ // whatever the answer, it must not land
	case req.op == opUpdate && target != nil:
		target.incMay++
	case (req.op == opPut || req.op == opPutBig) && crossed != "":
		l.forbidden[req.marker] = forbidden{invCrossing, crossed}
	}
	if !acked {
		return
	}

	switch req.op {
	case opPut, opPutBig, opUpdate:
		if crossed != "" {
			m.logf("  request #%d's write crossed a change of subject and was acknowledged", req.n)
			return
		}
		if target == nil || final == "" {
			m.violated(invLost, "request #%d's %s was acknowledged, but the request ended with no session", req.n, req.op)
			return
		}
		if req.op == opUpdate {
			target.incAcked++
		} else if _, bad := target.forbidden[req.marker]; !bad {
			target.acked[req.marker] = true
		}
		target.deadline = later(target.deadline, now.Add(m.cfg.IdleTimeout))
	case opLogin:
		if target == nil || final == "" {
			m.violated(invLost, "request #%d's login was acknowledged, but the request ended with no session", req.n)
			return
		}
		target.subject = req.client.subject
	case opDestroy:
		tokID := idOf(req.token)
		as := m.subjectOf(tokID)
		if l != nil {
			as = req.seen.Subject
		}
		m.ended(tokID, as, now, fmt.Sprintf("the logout of request #%d", req.n))
	case opRevokeDevice:
		m.ended(a.reply.Revoked, m.subjectOf(a.reply.Revoked), now, fmt.Sprintf("RevokeDevice by request #%d", req.n))
	}
}

// ended records an acknowledged logout or revoke through id at now, by a
// request that saw the session as subject as. The session ends wherever
// renewals moved it, as long as the server can still tell where that is
// (the ID is current, or its tombstone lives) and the session still belongs
// to as: a request from before a login, which may come from an attacker who
// planted the ID, cannot end the session the login made of it (DESIGN-NOTES,
// "Who follows a forward"), so the model claims nothing then.
func (m *model) ended(id, as string, now time.Time, why string) {
	st := m.ids[id]
	if st == nil || !st.lin.live() || !m.tombstoneLive(st, now) {
		return
	}
	l := st.lin
	if l.subject != as {
		m.logf("  no claim on session L%d: %s came from %q, the session is %q's since", l.n, why, as, l.subject)
		return
	}
	l.ended = why
	m.logf("  session L%d ends (%s)", l.n, why)
}

// subjectOf is whose session id was: its lineage's subject while it is
// current, and the subject when it was renewed away otherwise.
func (m *model) subjectOf(id string) string {
	st := m.ids[id]
	switch {
	case st == nil:
		return ""
	case st.renewedAt.IsZero():
		return st.lin.subject
	default:
		return st.subject
	}
}

// revokedSubject records an acknowledged RevokeSubject.
func (m *model) revokedSubject(subject string) {
	for _, l := range m.lins {
		if l.live() && l.subject == subject {
			l.ended = fmt.Sprintf("RevokeSubject(%q)", subject)
			m.logf("  session L%d ends (%s)", l.n, l.ended)
		}
	}
}

// checkStore reads every ID the model knows straight from the store (Load
// has no side effects) and checks it.
func (m *model) checkStore(now time.Time, load func(id string) (*session.Record, error)) {
	read := func(id string) *session.Record {
		rec, err := load(id)
		if err != nil {
			if !errors.Is(err, session.ErrNotFound) {
				m.fatalf("store: load %s: %v", m.name(id), err)
			}
			return nil
		}
		return rec
	}
	for _, l := range m.lins {
		if l.expired {
			continue
		}
		if !now.Before(l.deadline) {
			// Nothing of it can load any more, and the model claims
			// nothing of it: a client that still sends one of its tokens
			// is checked when it loads.
			l.expired = true
			m.logf("  session L%d expired at %v", l.n, m.at(l.deadline))
			continue
		}
		var cur *session.Record
		// Every ID it had, and any successor a tombstone names.
		seen := map[string]bool{}
		queue := slices.Clone(l.ids)
		for len(queue) > 0 {
			id := queue[0]
			queue = queue[1:]
			if seen[id] {
				continue
			}
			seen[id] = true
			if st := m.ids[id]; st != nil && !m.tombstoneLive(st, now) {
				continue // renewed away longer ago than RenewGrace: checked when a client sends it
			}
			rec := read(id)
			if rec == nil {
				continue
			}
			if rec.RenewedTo != "" {
				queue = append(queue, rec.RenewedTo)
			}
			if rec.Tombstone() {
				continue
			}
			m.checkRecord(l, id, rec)
			if id == l.current() {
				cur = rec
			} else if l.ended == "" && !l.expired && m.known(id) {
				m.violated(invStale, "%s, renewed away, still holds a live session (version %d)", m.name(id), rec.Version)
			}
		}
		if !l.live() {
			continue
		}
		if cur == nil {
			m.violated(invLost, "session L%d: its current ID %s does not load a session, though it expires only at %v (now %v)",
				l.n, m.name(l.current()), m.at(l.deadline), m.at(now))
			continue
		}
		keys := make([]string, 0, len(cur.Values))
		counter := 0
		for _, v := range cur.Values {
			if v.Key == counterKey {
				json.Unmarshal(v.Data, &counter)
				continue
			}
			keys = append(keys, v.Key)
		}
		m.checkContents(l, "store record "+m.name(l.current()), cur.Subject, keys, counter)
		l.deadline = cur.Expires()
	}
}

// checkRecord checks one live record of lineage l under id.
func (m *model) checkRecord(l *lineage, id string, rec *session.Record) {
	name := m.name(id)
	if l.ended != "" {
		m.violated(invLogout, "%s of session L%d still loads a session (subject %q, keys %s), though it ended with %s",
			name, l.n, rec.Subject, keyList(rec), l.ended)
	}
	for _, v := range rec.Values {
		if f, ok := l.forbidden[v.Key]; ok && l.ended == "" {
			m.violated(f.inv, "%s holds key %q, written by %s", name, v.Key, f.why)
		}
	}
	if m.sizeBound > 0 {
		// The bound is on the record as the stores keep it: values, keys
		// and metadata, in the codec every blob store uses.
		if size := len(session.EncodeRecord(nil, rec)); size > m.sizeBound {
			m.violated(invSize, "%s encodes to %d bytes, over MaxRecordBytes=%d", name, size, m.sizeBound)
		}
	}
	st := m.ids[id]
	if st == nil {
		return
	}
	if st.seen {
		how := "a touch (same version)"
		if rec.Version != st.version {
			how = fmt.Sprintf("a commit (version %d -> %d)", st.version, rec.Version)
		}
		if rec.IdleDeadline.Before(st.idle) {
			m.violated(invDeadline, "%s: IdleDeadline moved back from %v to %v by %s",
				name, m.at(st.idle), m.at(rec.IdleDeadline), how)
		}
		if rec.LastActive.Before(st.lastActive) {
			m.violated(invDeadline, "%s: LastActive moved back from %v to %v by %s",
				name, m.at(st.lastActive), m.at(rec.LastActive), how)
		}
	}
	st.seen, st.version = true, rec.Version
	st.idle, st.lastActive = later(st.idle, rec.IdleDeadline), later(st.lastActive, rec.LastActive)
}

func keyList(rec *session.Record) string {
	keys := make([]string, len(rec.Values))
	for i, v := range rec.Values {
		keys[i] = v.Key
	}
	return "[" + strings.Join(keys, " ") + "]"
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
