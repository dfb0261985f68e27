package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/sessionkit/session"
)

// revokeCmd ends sessions: sessionctl revoke ID, or revoke --user SUBJECT.
type revokeCmd struct {
	id      string
	user    string
	userSet bool
}

func (c *revokeCmd) flags(fs *flag.FlagSet) {
	fs.Func("user", "revoke every session of this subject", func(s string) error {
		c.user, c.userSet = s, true
		return nil
	})
}

func (c *revokeCmd) args(args []string) error {
	switch {
	case c.userSet && c.user == "":
		return usagef("revoke: --user needs a subject")
	case c.userSet && len(args) > 0:
		return usagef("revoke: give a session ID or --user SUBJECT, not both")
	case c.userSet:
		return nil
	case len(args) != 1:
		return usagef("revoke: want one session ID, or --user SUBJECT")
	}
	var err error
	c.id, err = parseID(args[0])
	return err
}

// revokeJSON is the JSON form of revoke's result.
type revokeJSON struct {
	Revoked int    `json:"revoked"`
	Note    string `json:"note,omitempty"`
}

func (c *revokeCmd) run(ctx context.Context, e *env) error {
	var res revokeJSON
	if c.userSet {
		idx, ok := e.store.(session.SubjectIndex)
		if !ok {
			return unsupported("revoke --user: this store does not index sessions by user (it has no session.SubjectIndex; memcached has none)")
		}
		n, err := idx.DeleteSubject(ctx, c.user)
		if err != nil {
			return fmt.Errorf("revoke: %w", err)
		}
		res.Revoked = n
	} else {
		// Load first, to report whether there was a session to end: Delete
		// of an absent ID succeeds.
		rec, err := e.store.Load(ctx, c.id)
		switch {
		case errors.Is(err, session.ErrNotFound):
			res.Note = "no live session has this ID"
		case err != nil:
			return fmt.Errorf("revoke: %w", err)
		default:
			if err := e.store.Delete(ctx, c.id); err != nil {
				return fmt.Errorf("revoke: %w", err)
			}
			if rec.RenewedTo != "" {
				// Deleting a tombstone only stops slow requests from carrying
				// changes over; the session lives on under its new ID.
				res.Note = "this ID was renewed; the session lives on as " + rec.RenewedTo + ": revoke that ID"
			} else {
				res.Revoked = 1
			}
		}
	}
	if e.json {
		return writeJSON(e.stdout, res)
	}
	if res.Note != "" {
		_, err := fmt.Fprintf(e.stdout, "revoked %s (%s)\n", plural(res.Revoked, "session"), res.Note)
		return err
	}
	_, err := fmt.Fprintf(e.stdout, "revoked %s\n", plural(res.Revoked, "session"))
	return err
}
