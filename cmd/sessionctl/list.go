package main

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sessionkit/session"
)

// listCmd lists live sessions, oldest first: sessionctl list [--user SUBJECT].
type listCmd struct {
	user    string
	userSet bool
}

func (c *listCmd) flags(fs *flag.FlagSet) {
	fs.Func("user", "list the sessions of this subject only", func(s string) error {
		c.user, c.userSet = s, true
		return nil
	})
}

func (c *listCmd) args(args []string) error {
	if c.userSet && c.user == "" {
		return usagef("list: --user needs a subject")
	}
	return noArgs("list", args)
}

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
	var recs []*session.Record
	if c.userSet {
		idx, ok := e.store.(session.SubjectIndex)
		if !ok {
			return unsupported("list --user: this store does not index sessions by user (it has no session.SubjectIndex; memcached has none)")
		}
		var err error
		if recs, err = idx.ListSubject(ctx, c.user); err != nil {
			return fmt.Errorf("list: %w", err)
		}
	} else {
		it, ok := e.store.(session.Iterator)
		if !ok {
			return unsupported("list: this store cannot walk its sessions (it has no session.Iterator; memcached has none); list --user needs a session.SubjectIndex")
		}
		err := it.Range(ctx, func(rec *session.Record) bool {
			recs = append(recs, rec)
			return true
		})
		if err != nil {
			return fmt.Errorf("list: %w", err)
		}
	}
	recs = slices.DeleteFunc(recs, func(rec *session.Record) bool {
		return rec.Tombstone() || !live(rec, e.now) // tombstones are no one's session
	})
	sortRecords(recs)

	if e.json {
		out := make([]sessionJSON, len(recs))
		for i, rec := range recs {
			out[i] = toJSON(rec)
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
	return w.Flush()
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
