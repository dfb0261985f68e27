package main

import (
	"context"
	"encoding/json"
	"io"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/internal/testenv"
	"github.com/sessionkit/session/storeurl"
)

// benchReport matches bench's table output; the numbers vary.
var benchReport = regexp.MustCompile(`^\S+, 4 workers, [0-9.]+m?s: \d+ operations, \d+/s

OPERATION +COUNT +ERRORS +PER SECOND +P50 +P90 +P99 +MAX
create +\d+ +0 +\d+ .+
read +\d+ +0 +\d+ .+
update +\d+ +0 +\d+ .+
renew +\d+ +0 +\d+ .+
destroy +\d+ +0 +\d+ .+
cas +\d+ +0 +\d+ .+

lost-update check: ok: 4 shared sessions, (\d+) increments acknowledged, (\d+) counted \(0 ambiguous, \d+ conflicts retried, 0 given up\)
cleanup: deleted what was left of the \d+ sessions the bench created \(\d+ IDs\)(; the store holds \d+ live sessions?)?
$`)

// bench runs sessionctl bench briefly against rawURL and checks its report.
func bench(t *testing.T, rawURL string, args ...string) {
	t.Helper()
	var stdout, stderr strings.Builder
	args = append([]string{"--store", rawURL, "bench", "--duration", "300ms", "--concurrency", "4"}, args...)
	if err := Run(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("bench: %v\n%s", err, stdout.String())
	}
	m := benchReport.FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("bench output has not the expected shape:\n%s", stdout.String())
	}
	if m[1] != m[2] || m[1] == "0" {
		t.Errorf("lost-update check: %s acknowledged, %s counted", m[1], m[2])
	}
	if !regexp.MustCompile(`(?m)^bench: [0-9.]+m?s of 300ms, \d+ operations, \d+/s$`).MatchString(stderr.String()) {
		t.Errorf("no progress line on stderr: %q", stderr.String())
	}
}

func TestBenchMemory(t *testing.T) {
	bench(t, "memory:")

	var stdout strings.Builder
	err := Run(context.Background(), []string{"--store", "memory:", "--json", "bench", "--duration", "100ms", "--concurrency", "2"}, &stdout, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var out benchJSON
	if err := json.Unmarshal([]byte(stdout.String()), &out); err != nil {
		t.Fatalf("bench --json: %v\n%s", err, stdout.String())
	}
	if !out.LostUpdate.OK || len(out.Ops) != len(benchOpsNames) || out.Total == 0 || out.Remaining == nil || *out.Remaining != 0 {
		t.Errorf("bench --json: %+v", out)
	}
}

// TestBenchSQLite: bench refuses a store holding sessions; with --force it
// runs beside them and leaves them, and only them, behind.
func TestBenchSQLite(t *testing.T) {
	raw := "sqlite://" + filepath.Join(t.TempDir(), "sessions.db")
	if _, err := run(t, raw, "migrate"); err != nil {
		t.Fatal(err)
	}
	bench(t, raw)
	store, err := storeurl.Open(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	n, err := store.(session.Counter).Count(context.Background())
	store.(io.Closer).Close()
	if err != nil || n != 0 {
		t.Fatalf("after bench, the store holds %d sessions (%v), want 0", n, err)
	}
	seed(t, raw)
	_, err = run(t, raw, "bench", "--duration", "100ms")
	if err == nil || !strings.Contains(err.Error(), "the store holds 5 live sessions") || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("bench on a store with sessions: %v, want a refusal", err)
	}
	bench(t, raw, "--force")
	// The header and the 4 seeded sessions live at the test's --now.
	if got, err := run(t, raw, "list"); err != nil || strings.Count(got, "\n") != 5 || strings.Contains(got, "bench") {
		t.Fatalf("after bench --force, list:\n%s%v", got, err)
	}
}

// TestBenchRedis runs in DB 12, which it flushes.
func TestBenchRedis(t *testing.T) {
	u, err := url.Parse(testenv.Get(testenv.Redis))
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/12"
	opts, err := redis.ParseURL(u.String())
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opts)
	t.Cleanup(func() { client.Close() })
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

	seed(t, u.String())
	if _, err := run(t, u.String(), "bench", "--duration", "100ms"); err == nil || !strings.Contains(err.Error(), "live session") {
		t.Fatalf("bench on a Redis holding sessions: %v, want a refusal", err)
	}
	before, err := client.DBSize(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	bench(t, u.String(), "--prefix", "bench:")
	if keys, err := client.Keys(ctx, "bench:*").Result(); err != nil || len(keys) != 0 {
		t.Errorf("bench left %d keys under its prefix (%v): %q", len(keys), err, keys)
	}
	if after, err := client.DBSize(ctx).Result(); err != nil || after != before {
		t.Errorf("keys outside the prefix: %d before, %d after (%v)", before, after, err)
	}
	// The seeded sessions are untouched.
	store, err := storeurl.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer store.(io.Closer).Close()
	if _, err := store.Load(ctx, idB); err != nil {
		t.Errorf("seeded session after bench: %v", err)
	}
}

func TestBenchUsage(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "--duration", "0s"},
		{"bench", "--duration", "11m"},
		{"bench", "--concurrency", "0"},
		{"bench", "--prefix", "a", "--table", "b"},
	} {
		err := Run(context.Background(), append([]string{"--store", "memory:"}, args...), io.Discard, io.Discard)
		if _, ok := err.(*usageError); !ok {
			t.Errorf("%s: %v, want a usage error", args, err)
		}
	}
}
