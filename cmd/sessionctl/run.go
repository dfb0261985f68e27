package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/storeurl"
)

const usage = `Usage: sessionctl [--store URL] [--json] <command> [arguments]

Administers the sessions of a sessionkit store.

Commands:
  stats                   count live sessions by state and by age
  list [--user SUBJECT] [--limit N] [--after CURSOR]
                          list live sessions, oldest first, N at a time
                          (default 100); a page ends with the command that
                          prints the next
  show [--reveal] ID      show a session's metadata and values; values under
                          keys that look secret (csrf, token, password, key,
                          ...) are hidden unless --reveal
  revoke ID               end one session
  revoke --user SUBJECT   end every session of a user
  sweep                   delete expired sessions (stores without native expiry)
  migrate                 create the store (a SQLite file, the SQL schema) or
                          bring its schema up to date
  bench [--concurrency N] [--duration D] [--prefix P | --table T] [--force]
                          load-test the store with a mix of session
                          operations (default 8 workers for 5s, at most 10m);
                          prints throughput, latency percentiles and a
                          lost-update check, and deletes what it created.
                          It refuses a store holding live sessions unless
                          --prefix (redis, memcached) or --table (postgres,
                          mysql; created if missing) gives it a namespace of
                          its own, or --force
  help                    show this text

Flags (before or after the command):
  --store URL   the store; default $SESSIONCTL_STORE. For example
                sqlite:///var/lib/app/sessions.db, redis://127.0.0.1:6379/0,
                postgres://app:secret@db.internal/app, mysql://app@db/app,
                memcached://127.0.0.1:11211. Every command but migrate
                opens an existing store: a missing SQLite file or SQL
                table is an error, never created by accident.
  --json        print JSON instead of a table

ID is a store ID (64 hex digits, as list prints it) or a session token as the
browser holds it (43 characters), which is hashed to its store ID. Times are
RFC 3339, UTC.
`

// usageError reports bad input: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// A subcommand defines its flags, checks its arguments before the store is
// opened (so that bad input fails fast, and as a usage error), then runs.
type subcommand interface {
	flags(fs *flag.FlagSet)
	args(args []string) error
	run(ctx context.Context, e *env) error
}

// commands, in the order of the usage text.
var commands = []commandDef{
	{"stats", func() subcommand { return new(statsCmd) }},
	{"list", func() subcommand { return new(listCmd) }},
	{"show", func() subcommand { return new(showCmd) }},
	{"revoke", func() subcommand { return new(revokeCmd) }},
	{"sweep", func() subcommand { return new(sweepCmd) }},
	{"migrate", func() subcommand { return new(migrateCmd) }},
	{"bench", func() subcommand { return new(benchCmd) }},
}

type commandDef struct {
	name string
	new  func() subcommand
}

// noArgs is the args method of commands that take none.
func noArgs(name string, args []string) error {
	if len(args) > 0 {
		return usagef("%s: unexpected argument %q", name, args[0])
	}
	return nil
}

// env is what a subcommand works with.
type env struct {
	store  session.Store
	json   bool
	now    time.Time
	stdout io.Writer
	stderr io.Writer // notes beside JSON output, progress

	storeName string // the store's URL, its password hidden
}

// globals are the flags accepted before and after the subcommand.
type globals struct {
	store string
	json  bool
	now   string
}

func (g *globals) define(fs *flag.FlagSet) {
	fs.StringVar(&g.store, "store", g.store, "store URL")
	fs.BoolVar(&g.json, "json", g.json, "print JSON")
	// Hidden (not in the usage text): the clock, for reproducible output.
	fs.StringVar(&g.now, "now", g.now, "the current time, RFC 3339")
}

// Run runs sessionctl with args (without the program name), writing results
// to stdout. Usage errors are *usageError; "-h" returns flag.ErrHelp after
// printing the usage to stdout.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	g := &globals{store: os.Getenv("SESSIONCTL_STORE")}
	fs := newFlagSet("sessionctl")
	g.define(fs)
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fmt.Fprint(stderr, usage)
		return usagef("no command")
	}
	name, args := fs.Arg(0), fs.Args()[1:]
	if name == "help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	i := slices.IndexFunc(commands, func(c commandDef) bool { return c.name == name })
	if i < 0 {
		return usagef("unknown command %q (commands: stats, list, show, revoke, sweep, migrate, bench, help)", name)
	}
	cmd := commands[i].new()
	sub := newFlagSet("sessionctl " + name)
	g.define(sub)
	cmd.flags(sub)
	if err := parse(sub, args, stdout); err != nil {
		return err
	}
	if err := cmd.args(sub.Args()); err != nil {
		return err
	}

	now := time.Now()
	if g.now != "" {
		t, err := time.Parse(time.RFC3339, g.now)
		if err != nil {
			return usagef("--now %q: want an RFC 3339 time such as 2026-01-02T15:04:05Z", g.now)
		}
		now = t
	}
	if g.store == "" {
		return usagef("no store: set --store URL or SESSIONCTL_STORE")
	}
	// Commands open a store that exists, so that a typo in --store is an
	// error, not an empty store; migrate, and bench in a table of its own,
	// say otherwise.
	opts := storeurl.Options{Existing: true}
	if o, ok := cmd.(interface{ storeOptions() storeurl.Options }); ok {
		opts = o.storeOptions()
	}
	store, err := openStore(ctx, g.store, opts)
	if err != nil {
		return err
	}
	err = cmd.run(ctx, &env{store: store, json: g.json, now: now.UTC(), stdout: stdout, stderr: stderr, storeName: storeurl.Redact(g.store)})
	if c, ok := store.(io.Closer); ok {
		if cerr := c.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	return err
}

func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned, and printed once by main
	return fs
}

// parse parses args. Below the top level it allows positional arguments
// between flags ("show ID --json"), where the flag package would stop at the
// first one; "--" ends the flags.
func parse(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stdout, usage)
				return err
			}
			return &usageError{msg: err.Error()}
		}
		left := fs.Args()
		consumed := len(args) - len(left)
		if len(left) == 0 || fs.Name() == "sessionctl" || (consumed > 0 && args[consumed-1] == "--") {
			// The top level stops at the command name: what follows is
			// the command's.
			rest = append(rest, left...)
			break
		}
		rest = append(rest, left[0])
		args = left[1:]
	}
	// Parse once more, nothing but the positional arguments, so that
	// fs.Args() returns them.
	return fs.Parse(append([]string{"--"}, rest...))
}

// knownSchemes are the URL schemes storeurl documents. A URL with another
// scheme is still handed to storeurl.Open, in case storeurl learned a new
// one; if Open then fails, the failure is reported as bad input (exit
// status 2) rather than as a store that failed.
var knownSchemes = []string{
	"memory", "sqlite", "sqlite3", "redis", "rediss", "redis-sentinel", "rediss-sentinel",
	"redis-cluster", "rediss-cluster", "postgres", "postgresql", "mysql", "mariadb", "memcached", "memcache",
}

// openStore opens the store named by raw.
func openStore(ctx context.Context, raw string, opts storeurl.Options) (session.Store, error) {
	scheme, _, ok := strings.Cut(raw, ":")
	if !ok || scheme == "" || strings.ContainsAny(scheme, "/?#@ ") {
		return nil, usagef("--store: %s is not a store URL: it needs a scheme, as in redis://127.0.0.1:6379/0 (supported: %s)",
			storeurl.Redact(raw), strings.Join(knownSchemes, ", "))
	}
	store, err := storeurl.OpenWith(ctx, raw, opts)
	switch {
	case err != nil && !slices.Contains(knownSchemes, strings.ToLower(scheme)):
		return nil, usagef("--store: %v", err) // storeurl's error names the scheme and lists the known ones
	case errors.Is(err, storeurl.ErrNotExist):
		return nil, fmt.Errorf("%w (to create the store on purpose: sessionctl --store %s migrate)", err, storeurl.Redact(raw))
	}
	return store, err
}

// parseID turns a store ID or a session token into a store ID.
func parseID(arg string) (string, error) {
	if len(arg) == 64 {
		id := strings.ToLower(arg)
		if strings.Trim(id, "0123456789abcdef") == "" {
			return id, nil
		}
	}
	if id, ok := session.HashToken(arg); ok {
		return id, nil
	}
	return "", usagef("malformed session ID %q: want 64 hex digits (a store ID, as list prints it) or a 43-character session token", arg)
}

// unsupportedError reports that the store lacks the optional capability a
// command needs. It wraps session.ErrUnsupported.
type unsupportedError struct{ msg string }

func (e *unsupportedError) Error() string { return e.msg }
func (e *unsupportedError) Unwrap() error { return session.ErrUnsupported }

func unsupported(format string, args ...any) error {
	return &unsupportedError{msg: fmt.Sprintf(format, args...)}
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // user agents hold < and >; this is not HTML
	return enc.Encode(v)
}

// table returns a tabwriter for aligned columns; call Flush.
func table(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
}

// timestamp formats t for a table: RFC 3339 in UTC, "-" when zero.
func timestamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// orDash returns s, made safe for a terminal, or "-" when empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return clean(s)
}

// clean makes a string that came from a client (a user agent, a subject, a
// value) safe to print to a terminal: control characters, which could move
// the cursor or retitle the window, are shown escaped.
func clean(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, `\x%02x`, r)
		case r == 0xfffd || r == 0x2028 || r == 0x2029 || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
			// Invalid UTF-8, line separators and bidirectional overrides.
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// truncate shortens s to n runes, marking the cut with "…".
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// live reports whether rec is still in force at now. Stores filter on their
// own clock; sessionctl filters on its own as well, like the manager does.
func live(rec *session.Record, now time.Time) bool {
	return now.Before(rec.Expires())
}

// state names what a record is, for stats and show.
func state(rec *session.Record) string {
	switch {
	case rec.RenewedTo != "":
		return "renewal tombstone"
	case rec.Ended:
		return "ended tombstone"
	case rec.Subject == "":
		return "anonymous"
	case rec.Persistent:
		return "remember-me"
	default:
		return "logged in"
	}
}

// plural returns "1 session", "2 sessions".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
