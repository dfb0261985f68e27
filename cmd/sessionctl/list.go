package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sessionkit/session"
)

// listCmd lists live sessions, oldest first, a page at a time:
// sessionctl list [--user SUBJECT] [--limit N] [--after CURSOR].
//
// It walks the store once and keeps no more than the page in memory (about
// 2×limit records), so that it can list a store of millions of sessions.
// The cursor is the last row's creation time and ID ("CREATED,ID", the
// time in RFC 3339 with nanoseconds), so that a page continues where the
// previous one ended even if that session is gone since.
type listCmd struct {
	user    string
	userSet bool
	limit   int
	after   cursor
}

// defaultListLimit is how many sessions list prints without --limit.
const defaultListLimit = 100

// cursor is a position in list's order: the sessions after it are those
// created later, or at the same instant with a greater ID.
type cursor struct {
	created time.Time
	id      string
	set     bool
}

func (c cursor) String() string {
	return c.created.UTC().Format(time.RFC3339Nano) + "," + c.id
}

func cursorOf(rec *session.Record) cursor {
	return cursor{created: rec.Created, id: rec.ID, set: true}
}

// notBefore reports whether rec comes after c in list's order (every record
// does when c is not set).
func (c cursor) notBefore(rec *session.Record) bool {
	if !c.set {
		return true
	}
	if d := rec.Created.Compare(c.created); d != 0 {
		return d > 0
	}
	return rec.ID > c.id
}

func (c *listCmd) flags(fs *flag.FlagSet) {
	fs.Func("user", "list the sessions of this subject only", func(s string) error {
		c.user, c.userSet = s, true
		return nil
	})
	c.limit = defaultListLimit
	fs.IntVar(&c.limit, "limit", defaultListLimit, "print at most this many sessions")
	fs.Func("after", "continue after this cursor, as the previous page printed it", func(s string) error {
		t, id, ok := strings.Cut(s, ",")
		created, err := time.Parse(time.RFC3339Nano, t)
		if !ok || err != nil || id == "" {
			return errors.New("want CREATED,ID as the previous page printed it")
		}
		c.after = cursor{created: created, id: strings.ToLower(id), set: true}
		return nil
	})
}

func (c *listCmd) args(args []string) error {
	if c.userSet && c.user == "" {
		return usagef("list: --user needs a subject")
	}
	if c.limit < 1 {
		return usagef("list: --limit %d: want at least 1", c.limit)
	}
	return noArgs("list", args)
}

// page keeps the first limit records, in list's order, of those it is
// offered, holding at most 2×limit at a time.
type page struct {
	limit int
	recs  []*session.Record
	seen  int // records offered
}

func (p *page) offer(rec *session.Record) {
	p.seen++
	p.recs = append(p.recs, rec)
	if len(p.recs) >= 2*p.limit {
		p.trim()
	}
}

func (p *page) trim() {
	sortRecords(p.recs)
	if len(p.recs) > p.limit {
		clear(p.recs[p.limit:]) // let the store's records go
		p.recs = p.recs[:p.limit]
	}
}

// more is how many records were left out of the page.
func (p *page) more() int { return p.seen - len(p.recs) }

// userAgentWidth is where list cuts user agents; show prints them whole.
const userAgentWidth = 40

// sessionJSON is a session's metadata in JSON output.
type sessionJSON struct {
	ID               string    `json:"id"`
	Subject          string    `json:"subject"`
	State            string    `json:"state"`
	Created          time.Time `json:"created"`
	LastActive       time.Time `json:"last_active"`
	AuthTime         time.Time `json:"auth_time,omitzero"`
	IdleDeadline     time.Time `json:"idle_deadline"`
	AbsoluteDeadline time.Time `json:"absolute_deadline"`
	Persistent       bool      `json:"remember_me"`
	ClientAddr       string    `json:"client_addr"`
	UserAgent        string    `json:"user_agent"`
	RenewedTo        string    `json:"renewed_to,omitempty"`
	Version          uint64    `json:"version"`
}

func toJSON(rec *session.Record) sessionJSON {
	return sessionJSON{
		ID: rec.ID, Subject: rec.Subject, State: state(rec),
		Created: rec.Created.UTC(), LastActive: rec.LastActive.UTC(), AuthTime: rec.AuthTime.UTC(),
		IdleDeadline: rec.IdleDeadline.UTC(), AbsoluteDeadline: rec.AbsoluteDeadline.UTC(),
		Persistent: rec.Persistent, ClientAddr: rec.ClientAddr, UserAgent: rec.UserAgent,
		RenewedTo: rec.RenewedTo, Version: rec.Version,
	}
}

func (c *listCmd) run(ctx context.Context, e *env) error {
	p := &page{limit: c.limit}
	keep := func(rec *session.Record) {
		// Tombstones are no one's session.
		if !rec.Tombstone() && live(rec, e.now) && c.after.notBefore(rec) {
			p.offer(rec)
		}
	}
	if c.userSet {
		idx, ok := e.store.(session.SubjectIndex)
		if !ok {
			return unsupported("list --user: this store does not index sessions by user (it has no session.SubjectIndex; memcached has none)")
		}
		recs, err := idx.ListSubject(ctx, c.user) // one user's: few
		if err != nil {
			return fmt.Errorf("list: %w", err)
		}
		for _, rec := range recs {
			keep(rec)
		}
	} else {
		it, ok := e.store.(session.Iterator)
		if !ok {
			return unsupported("list: this store cannot walk its sessions (it has no session.Iterator; memcached has none); list --user needs a session.SubjectIndex")
		}
		err := it.Range(ctx, func(rec *session.Record) bool {
			keep(rec)
			return true
		})
		if err != nil {
			return fmt.Errorf("list: %w", err)
		}
	}
	p.trim()
	recs := p.recs
	// What is left, and how to get it: on stdout after the table, on
	// stderr beside JSON, whose array stays the same whether or not there
	// is more.
	var next string
	if n := p.more(); n > 0 {
		next = fmt.Sprintf("%s; the next page: sessionctl list --after %s", plural(n, "more session"), cursorOf(recs[len(recs)-1]))
		if c.userSet {
			next += " --user " + clean(c.user)
		}
		if c.limit != defaultListLimit {
			next += fmt.Sprintf(" --limit %d", c.limit)
		}
	}

	if e.json {
		out := make([]sessionJSON, len(recs))
		for i, rec := range recs {
			out[i] = toJSON(rec)
		}
		if next != "" {
			fmt.Fprintln(e.stderr, next)
		}
		return writeJSON(e.stdout, out)
	}
	if len(recs) == 0 {
		if c.userSet {
			_, err := fmt.Fprintf(e.stdout, "no live sessions for %s\n", orDash(c.user))
			return err
		}
		_, err := fmt.Fprintln(e.stdout, "no live sessions")
		return err
	}
	w := table(e.stdout)
	fmt.Fprintln(w, "ID\tSUBJECT\tCREATED\tLAST ACTIVE\tIDLE DEADLINE\tCLIENT\tUSER AGENT")
	for _, rec := range recs {
		subject := orDash(rec.Subject)
		if rec.Persistent {
			subject += " (remember-me)"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", rec.ID, subject,
			timestamp(rec.Created), timestamp(rec.LastActive), timestamp(rec.IdleDeadline),
			orDash(rec.ClientAddr), orDash(truncate(rec.UserAgent, userAgentWidth)))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if next != "" {
		_, err := fmt.Fprintf(e.stdout, "\n%s\n", next)
		return err
	}
	return nil
}

// sortRecords orders records oldest first, then by ID, so that output does
// not depend on the store's order.
func sortRecords(recs []*session.Record) {
	slices.SortFunc(recs, func(a, b *session.Record) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}
