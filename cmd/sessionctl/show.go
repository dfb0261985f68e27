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

// showCmd prints one session, its values decoded: sessionctl show
// [--reveal] ID. Values under keys that look secret (looksSecret), and JSON
// members so named inside other values, are hidden unless --reveal.
type showCmd struct {
	id     string
	reveal bool
}

func (c *showCmd) flags(fs *flag.FlagSet) {
	fs.BoolVar(&c.reveal, "reveal", false, "show the values under keys that look secret (csrf, token, password, ...)")
}

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
// undecodable_values. Without --reveal, the keys of the values that are
// hidden are listed in hidden_values instead, and secret members inside the
// others read "(hidden)".
type showJSON struct {
	sessionJSON
	Values      map[string]json.RawMessage `json:"values"`
	Undecodable map[string][]byte          `json:"undecodable_values,omitempty"`
	Hidden      []string                   `json:"hidden_values,omitempty"`
}

// shownValue is a session value as show prints it.
type shownValue struct {
	key    string
	data   []byte
	hidden bool // the whole value: its key looks secret
}

// shownValues returns rec's values, the secret ones hidden unless reveal.
func shownValues(rec *session.Record, reveal bool) []shownValue {
	out := make([]shownValue, len(rec.Values))
	for i, v := range rec.Values {
		out[i] = shownValue{key: v.Key, data: v.Data}
		if reveal {
			continue
		}
		if looksSecret(v.Key) {
			out[i].data, out[i].hidden = nil, true
			continue
		}
		out[i].data, _ = hideMembers(v.Data)
	}
	return out
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
		for _, v := range shownValues(rec, c.reveal) {
			switch {
			case v.hidden:
				out.Hidden = append(out.Hidden, v.key)
			case json.Valid(v.data):
				out.Values[v.key] = json.RawMessage(v.data)
			default:
				if out.Undecodable == nil {
					out.Undecodable = map[string][]byte{}
				}
				out.Undecodable[v.key] = v.data
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
	hidden := 0
	for _, v := range shownValues(rec, c.reveal) { // sorted by key
		fmt.Fprintf(&b, "\n%s:\n", clean(v.key))
		if v.hidden {
			hidden++
			fmt.Fprintf(&b, "  (hidden: the key looks secret)\n")
			continue
		}
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, v.data, "", "  "); err != nil {
			fmt.Fprintf(&b, "  (not JSON, %s) %q\n", plural(len(v.data), "byte"), v.data)
			continue
		}
		// JSON strings may hold terminal controls that JSON does not escape
		// (C1 controls, bidirectional overrides): clean each line.
		for line := range strings.Lines(pretty.String()) {
			fmt.Fprintf(&b, "  %s\n", clean(strings.TrimSuffix(line, "\n")))
		}
	}
	if !c.reveal && hidden > 0 {
		fmt.Fprintf(&b, "\n%s hidden; show --reveal prints them\n", plural(hidden, "value"))
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
