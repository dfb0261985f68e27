package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/internal/testenv"
	"github.com/sessionkit/session/storeurl"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// now is sessionctl's clock in the golden tests (--now). The seeded sessions
// live around it, far in the future, so that the stores, which expire on
// the real clock, keep them all.
var now = time.Date(2099, 1, 1, 12, 0, 0, 0, time.UTC)

// tokenA is the token of session a: show accepts it in place of the ID.
var tokenA = base64.RawURLEncoding.EncodeToString([]byte("sessionctl golden test token, a!"))

func idOf(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:])
}

// The seeded sessions.
var (
	idA, _ = session.HashToken(tokenA) // anonymous, 10 minutes old, with a cart
	idB    = idOf("b")                 // alice on her laptop, 3 hours old
	idC    = idOf("c")                 // alice, remember-me, 3 days old
	idD    = idOf("d")                 // bob, 30 minutes old, with a hostile user agent
	idE    = idOf("e")                 // the tombstone of b's previous ID
	idF    = idOf("f")                 // anonymous, expired an hour before now
)

func seedRecords() []*session.Record {
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	in := func(d time.Duration) time.Time { return now.Add(d) }
	return []*session.Record{{
		ID: idA, Version: 3,
		Created: ago(10 * time.Minute), LastActive: ago(5 * time.Minute),
		IdleDeadline: in(55 * time.Minute), AbsoluteDeadline: in(23*time.Hour + 50*time.Minute),
		ClientAddr: "192.0.2.10", UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
		Values: []session.Value{
			{Key: "cart", Data: []byte(`[{"sku":"apple","qty":2},{"sku":"pear","qty":1}]`)},
			{Key: "raw", Data: []byte{0x01, 0x02, 'x'}},
			{Key: "theme", Data: []byte(`"dark"`)},
		},
	}, {
		ID: idB, Version: 7, Subject: "alice",
		Created: ago(3 * time.Hour), LastActive: ago(2 * time.Minute), AuthTime: ago(3 * time.Hour),
		IdleDeadline: in(58 * time.Minute), AbsoluteDeadline: in(21 * time.Hour),
		ClientAddr: "198.51.100.7", UserAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
		Values: []session.Value{
			{Key: "csrf", Data: []byte(`{"for":"b","secret":"c2VjcmV0"}`)},
			{Key: "user", Data: []byte(`{"name":"Alice","roles":["admin","editor"],"sso":{"refresh_token":"r3fr3sh","id":7}}`)},
		},
	}, {
		ID: idC, Version: 2, Subject: "alice", Persistent: true,
		Created: ago(72 * time.Hour), LastActive: ago(30 * time.Minute), AuthTime: ago(72 * time.Hour),
		IdleDeadline: in(7*24*time.Hour - 30*time.Minute), AbsoluteDeadline: in(27 * 24 * time.Hour),
		ClientAddr: "2001:db8::1", UserAgent: "curl/8.5.0",
	}, {
		ID: idD, Version: 1, Subject: "bob",
		Created: ago(30 * time.Minute), LastActive: ago(30 * time.Minute), AuthTime: ago(30 * time.Minute),
		IdleDeadline: in(30 * time.Minute), AbsoluteDeadline: in(23*time.Hour + 30*time.Minute),
		ClientAddr: "203.0.113.5", UserAgent: "Evil\x1b]0;pwned\x07\x1b[2J\u202eBrowser",
		// JSON escapes C0 controls but may carry C1 ones (CSI, U+009B) raw.
		Values: []session.Value{{Key: "note\x1b[2J", Data: []byte("\"hi\\u001b[31m \u009b31m\"")}},
	}, {
		ID: idE, Version: 8, RenewedTo: idB,
		Created: ago(3 * time.Hour), LastActive: ago(time.Minute),
		IdleDeadline: in(30 * time.Second), AbsoluteDeadline: in(30 * time.Second),
	}, {
		ID: idF, Version: 1,
		Created: ago(25 * time.Hour), LastActive: ago(2 * time.Hour),
		IdleDeadline: ago(time.Hour), AbsoluteDeadline: ago(time.Hour),
		ClientAddr: "192.0.2.99", UserAgent: "gone",
	}}
}

// seed stores the records through the store's own Commit.
func seed(t *testing.T, rawURL string) {
	t.Helper()
	ctx := context.Background()
	store, err := storeurl.Open(ctx, rawURL)
	if err != nil {
		t.Fatal(err)
	}
	defer store.(io.Closer).Close()
	for _, rec := range seedRecords() {
		if err := store.Commit(ctx, rec, 0); err != nil {
			t.Fatalf("seed %s: %v", rec.ID, err)
		}
	}
}

// run runs sessionctl against rawURL with the test clock.
func run(t *testing.T, rawURL string, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	args = append([]string{"--store", rawURL, "--now", now.Format(time.RFC3339)}, args...)
	err := Run(context.Background(), args, &stdout, &stderr)
	return stdout.String(), err
}

// golden compares got with testdata/name.golden, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it)\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// kind says how a store differs in the golden files.
type kind struct {
	sweeper bool // sweep deletes; else expiry is native
	schema  bool // migrate migrates; else there is no schema
}

// suite runs every command against a store seeded with seedRecords. The
// output is the same for every store, except sweep and migrate, whose golden
// files are named after the store's kind. The cases run in order: the last
// ones revoke.
func suite(t *testing.T, rawURL string, k kind) {
	seed(t, rawURL)
	sweep, migrate := "sweep_native", "migrate_none"
	if k.sweeper {
		sweep = "sweep_sweeper"
	}
	if k.schema {
		migrate = "migrate_schema"
	}
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"stats", []string{"stats"}},
		{"stats.json", []string{"--json", "stats"}},
		{"list", []string{"list"}},
		{"list.json", []string{"list", "--json"}},
		{"list_page", []string{"list", "--limit", "2"}},
		{"list_page_next", []string{"list", "--limit=2", "--after", "2099-01-01T09:00:00Z," + idB}},
		{"list_user", []string{"list", "--user", "alice"}},
		{"list_user_none", []string{"list", "--user=nobody"}},
		{"show", []string{"show", idB}},
		{"show.json", []string{"show", "--json", idB}},
		{"show_reveal", []string{"show", "--reveal", idB}},
		{"show_reveal.json", []string{"show", "--json", "--reveal", idB}},
		{"show_values", []string{"show", tokenA}}, // a token stands for its ID
		{"show_values.json", []string{"show", strings.ToUpper(idA), "--json"}},
		{"show_hostile", []string{"show", idD}},
		{"show_tombstone", []string{"show", idE}},
		{sweep, []string{"sweep"}},
		{sweep + ".json", []string{"sweep", "--json"}},
		{migrate, []string{"migrate"}},
		{migrate + ".json", []string{"--json", "migrate"}},
		{"revoke_id", []string{"revoke", idD}},
		{"revoke_absent", []string{"revoke", idD}},
		{"revoke_tombstone", []string{"revoke", idE}},
		{"revoke_user.json", []string{"revoke", "--user", "alice", "--json"}},
		{"list_after_revoke", []string{"list"}},
	} {
		got, err := run(t, rawURL, tc.args...)
		if err != nil {
			t.Fatalf("sessionctl %s: %v", strings.Join(tc.args, " "), err)
		}
		golden(t, tc.golden, got)
	}

	// sweep deleted f (expired at --now, still live on the real clock) from
	// stores that sweep; stores with native expiry still hold it.
	ctx := context.Background()
	store, err := storeurl.Open(ctx, rawURL)
	if err != nil {
		t.Fatal(err)
	}
	defer store.(io.Closer).Close()
	_, err = store.Load(ctx, idF)
	if k.sweeper && !errors.Is(err, session.ErrNotFound) {
		t.Errorf("after sweep, Load(f) = %v, want ErrNotFound", err)
	}
	if !k.sweeper && err != nil {
		t.Errorf("store with native expiry: Load(f) = %v, want the record", err)
	}
	// show refuses a session that expired by sessionctl's clock.
	if _, err := run(t, rawURL, "show", idA); err != nil {
		t.Errorf("show a: %v", err)
	}
	if _, err := run(t, rawURL, "show", idF); err == nil || !strings.Contains(err.Error(), "no live session") {
		t.Errorf("show of a session expired at --now: %v, want no live session", err)
	}
}

func TestSQLite(t *testing.T) {
	suite(t, "sqlite://"+filepath.Join(t.TempDir(), "sessions.db"), kind{sweeper: true, schema: true})
}

func TestRedis(t *testing.T) {
	u, err := url.Parse(testenv.Get(testenv.Redis))
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/14" // DB 14 is this test's: it is flushed before and after
	opts, err := redis.ParseURL(u.String())
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opts)
	t.Cleanup(func() { client.Close() }) // after the flush below
	ctx := context.Background()
	if err := client.Ping(ctx).Err(); err != nil {
		testenv.Unreachable(t, testenv.Redis, err)
	}
	flush := func() {
		if err := client.FlushDB(ctx).Err(); err != nil {
			t.Fatal(err)
		}
	}
	flush()
	t.Cleanup(flush)
	suite(t, u.String(), kind{})
}

func TestPostgres(t *testing.T) {
	raw := testenv.Get(testenv.Postgres)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, raw)
	if err != nil {
		testenv.Unreachable(t, testenv.Postgres, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) }) // after the drop below
	// A schema of our own: the store creates its table there (the first
	// schema of search_path), and dropping it leaves nothing behind.
	schema := "sessionctl_test_" + strings.ToLower(rand.Text()[:10])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Error(err)
		}
	})
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	suite(t, u.String(), kind{sweeper: true, schema: true})

	// The table is in our schema, not in public.
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'sessions'", schema).Scan(&n); err != nil || n != 1 {
		t.Fatalf("sessions table in %s: %d, %v", schema, n, err)
	}
}

// TestErrors checks bad input: a usage error (exit status 2) before any
// store is opened, and failures of the operation (exit status 1).
func TestErrors(t *testing.T) {
	dir := t.TempDir()
	sqlite := "sqlite://" + filepath.Join(dir, "sessions.db")
	emptyDB := filepath.Join(dir, "other.db")
	if err := os.WriteFile(emptyDB, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	emptyDB = "sqlite://" + emptyDB
	for _, tc := range []struct {
		name  string
		args  []string
		usage bool   // a *usageError
		want  string // in the error
	}{
		{"no command", []string{"--store", "memory:"}, true, "no command"},
		{"unknown command", []string{"--store", "memory:", "frobnicate"}, true, `unknown command "frobnicate"`},
		{"unknown flag", []string{"--store", "memory:", "list", "--frob"}, true, "flag provided but not defined: -frob"},
		{"no store", []string{"list"}, true, "no store: set --store URL or SESSIONCTL_STORE"},
		{"unknown scheme", []string{"--store", "foo://x", "list"}, true, `unknown scheme "foo"`},
		{"no scheme", []string{"--store", "/var/lib/sessions.db", "list"}, true, "not a store URL"},
		{"malformed ID", []string{"--store", "memory:", "show", "abc"}, true, `malformed session ID "abc"`},
		{"ID not hex", []string{"--store", "memory:", "revoke", strings.Repeat("g", 64)}, true, "malformed session ID"},
		{"hostile ID is escaped", []string{"--store", "memory:", "show", "\x1b[2J"}, true, `malformed session ID "\x1b[2J"`},
		{"show without ID", []string{"--store", "memory:", "show"}, true, "want one session ID"},
		{"show two IDs", []string{"--store", "memory:", "show", idA, idB}, true, "want one session ID"},
		{"revoke ID and user", []string{"--store", "memory:", "revoke", idA, "--user", "alice"}, true, "not both"},
		{"revoke empty user", []string{"--store", "memory:", "revoke", "--user", ""}, true, "--user needs a subject"},
		{"stats argument", []string{"--store", "memory:", "stats", "now"}, true, `unexpected argument "now"`},
		{"zero limit", []string{"--store", "memory:", "list", "--limit", "0"}, true, "--limit 0: want at least 1"},
		{"bad cursor", []string{"--store", "memory:", "list", "--after", idA}, true, "want CREATED,ID"},
		{"bad now", []string{"--store", "memory:", "--now", "yesterday", "stats"}, true, "--now"},
		{"show unknown ID", []string{"--store", "memory:", "show", idA}, false, "no live session has ID " + idA},
		{"sqlite typo", []string{"--store", sqlite, "list"}, false, "store does not exist: no database file " + filepath.Join(dir, "sessions.db") + " (to create the store on purpose: sessionctl --store " + sqlite + " migrate)"},
		{"sqlite without the table", []string{"--store", emptyDB, "stats"}, false, "has no sessions table"},
		{"unreachable store", []string{"--store", "postgres://u@127.0.0.1:1/db?connect_timeout=2", "stats"}, false, "storeurl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("SESSIONCTL_STORE", "")
			var stdout, stderr bytes.Buffer
			err := Run(context.Background(), tc.args, &stdout, &stderr)
			var ue *usageError
			switch {
			case err == nil:
				t.Fatalf("no error; stdout:\n%s", stdout.String())
			case errors.As(err, &ue) != tc.usage:
				t.Fatalf("error %q: usage error %v, want %v", err, !tc.usage, tc.usage)
			case !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestCreateOnPurpose: a command other than migrate leaves a missing SQLite
// file missing; migrate creates it, and then the others open it.
func TestCreateOnPurpose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "typo.db")
	raw := "sqlite:" + path
	if _, err := run(t, raw, "stats"); err == nil {
		t.Fatal("stats of a missing file: no error")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stats created %s: %v", path, err)
	}
	if got, err := run(t, raw, "migrate"); err != nil || got != "schema is up to date\n" {
		t.Fatalf("migrate: %q, %v", got, err)
	}
	if got, err := run(t, raw, "list"); err != nil || got != "no live sessions\n" {
		t.Fatalf("list after migrate: %q, %v", got, err)
	}
}

func TestHelpAndEnv(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := Run(context.Background(), []string{"help"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	golden(t, "help", stdout.String())
	stdout.Reset()
	if err := Run(context.Background(), []string{"-h"}, &stdout, &stderr); !errors.Is(err, flag.ErrHelp) || stdout.String() != usage {
		t.Fatalf("-h: %v, %q", err, stdout.String())
	}

	// SESSIONCTL_STORE names the store when --store is absent.
	t.Setenv("SESSIONCTL_STORE", "memory:")
	stdout.Reset()
	if err := Run(context.Background(), []string{"list"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if got := stdout.String(); got != "no live sessions\n" {
		t.Fatalf("list of an empty memory store: %q", got)
	}
}

// TestUnsupported runs the commands that need an optional capability against
// memcached, which has none of them.
func TestUnsupported(t *testing.T) {
	raw := "memcached://" + testenv.Get(testenv.Memcached)
	store, err := storeurl.Open(context.Background(), raw)
	if err != nil {
		testenv.Unreachable(t, testenv.Memcached, err)
	}
	store.(io.Closer).Close()
	for _, args := range [][]string{{"stats"}, {"list"}, {"list", "--user", "alice"}, {"revoke", "--user", "alice"}} {
		_, err := run(t, raw, args...)
		if !errors.Is(err, session.ErrUnsupported) {
			t.Errorf("%s on memcached: %v, want ErrUnsupported", args, err)
		}
	}
	// bench cannot tell whether memcached holds real sessions: it wants a
	// prefix of its own.
	if _, err := run(t, raw, "bench", "--duration", "100ms"); err == nil || !strings.Contains(err.Error(), "cannot count its sessions") {
		t.Errorf("bench on memcached without --prefix: %v, want a refusal", err)
	}
	for args, want := range map[string]string{
		"sweep":   "expiry is native to this store; nothing to sweep\n",
		"migrate": "this store has no schema; nothing to migrate\n",
	} {
		got, err := run(t, raw, args)
		if err != nil || got != want {
			t.Errorf("%s on memcached: %q, %v; want %q", args, got, err, want)
		}
	}
}
