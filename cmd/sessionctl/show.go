package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/sessionkit/session"
)

// showCmd prints one session, its values decoded: sessionctl show ID.
type showCmd struct{ id string }

func (*showCmd) flags(*flag.FlagSet) {}

func (c *showCmd) args(args []string) error {
	if len(args) != 1 {
		return usagef("show: want one session ID, got %d arguments", len(args))
	}
	var err error
	c.id, err = parseID(args[0])
	return err
}

// showJSON is the JSON form of show: the metadata, and the values, each
// decoded as JSON; a value that is not JSON is given as base64 in
// undecodable_values.
type showJSON struct {
	sessionJSON
	Values      map[string]json.RawMessage `json:"values"`
	Undecodable map[string][]byte          `json:"undecodable_values,omitempty"`
}

func (c *showCmd) run(ctx context.Context, e *env) error {
	rec, err := e.store.Load(ctx, c.id)
	if errors.Is(err, session.ErrNotFound) || (err == nil && !live(rec, e.now)) {
		return fmt.Errorf("show: no live session has ID %s", c.id)
	}
	if err != nil {
		return fmt.Errorf("show: %w", err)
	}
	if e.json {
		out := showJSON{sessionJSON: toJSON(rec), Values: map[string]json.RawMessage{}}
		for _, v := range rec.Values {
			if json.Valid(v.Data) {
				out.Values[v.Key] = json.RawMessage(v.Data)
			} else {
				if out.Undecodable == nil {
					out.Undecodable = map[string][]byte{}
				}
				out.Undecodable[v.Key] = v.Data
			}
		}
		return writeJSON(e.stdout, out)
	}

	w := table(e.stdout)
	row := func(name, value string) { fmt.Fprintf(w, "%s\t%s\n", name, value) }
	row("ID", rec.ID)
	row("State", state(rec))
	if rec.RenewedTo != "" {
		row("Renewed to", rec.RenewedTo)
	}
	row("Subject", orDash(rec.Subject))
	row("Remember-me", yesNo(rec.Persistent))
	row("Created", timestamp(rec.Created))
	row("Last active", timestamp(rec.LastActive))
	row("Authenticated", timestamp(rec.AuthTime))
	row("Idle deadline", timestamp(rec.IdleDeadline))
	row("Absolute deadline", timestamp(rec.AbsoluteDeadline))
	row("Expires", timestamp(rec.Expires()))
	row("Client address", orDash(rec.ClientAddr))
	row("User agent", orDash(rec.UserAgent))
	row("Version", fmt.Sprint(rec.Version))
	if err := w.Flush(); err != nil {
		return err
	}

	var b strings.Builder
	fmt.Fprintf(&b, "\n%s\n", plural(len(rec.Values), "value"))
	for _, v := range rec.Values { // sorted by key
		fmt.Fprintf(&b, "\n%s:\n", clean(v.Key))
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, v.Data, "", "  "); err != nil {
			fmt.Fprintf(&b, "  (not JSON, %s) %q\n", plural(len(v.Data), "byte"), v.Data)
			continue
		}
		// JSON strings may hold terminal controls that JSON does not escape
		// (C1 controls, bidirectional overrides): clean each line.
		for line := range strings.Lines(pretty.String()) {
			fmt.Fprintf(&b, "  %s\n", clean(strings.TrimSuffix(line, "\n")))
		}
	}
	_, err = fmt.Fprint(e.stdout, b.String())
	return err
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
