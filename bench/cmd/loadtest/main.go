// Command loadtest serves the same four endpoints (login, read, modify,
// untouched) over real HTTP on 127.0.0.1 with sessionkit, scs and
// gorilla/sessions on Redis, sessionkit and scs on PostgreSQL, and a bare
// handler, and drives each at a fixed concurrency. It reports requests per
// second, p99 latency, store commands per request and, separately, how many
// of 1000 concurrent increments of one session each library loses.
//
//	cd bench && go run ./cmd/loadtest | tee loadtest.md
//
// The servers run in a child process (this program with -serve), the load
// generator in this one. Traffic goes to 127.0.0.1 only. It empties its own
// Redis database (-redis-db, 15 by default) with FLUSHDB and keeps its
// PostgreSQL tables in a schema of its own (-schema), created at the start;
// both are emptied again at the end unless -keep. The whole run is bounded
// by -max.
//
// Cells (endpoint x library) run -dur each after -warm of warm-up, libraries
// interleaved (their order rotates each repetition), -reps times; the tables
// give the medians.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"
)

type config struct {
	serve          bool
	dur, warm      time.Duration
	reps, conns    int
	lostClients    int
	lostIncrements int
	redis          string
	redisDB        int
	postgres       string
	schema         string
	max            time.Duration
	keep           bool
}

func main() {
	var cfg config
	flag.BoolVar(&cfg.serve, "serve", false, "internal: run the servers (the child process)")
	flag.DurationVar(&cfg.dur, "dur", 3*time.Second, "measured duration of each cell")
	flag.DurationVar(&cfg.warm, "warm", 300*time.Millisecond, "warm-up before each cell")
	flag.IntVar(&cfg.reps, "reps", 3, "repetitions of each cell")
	flag.IntVar(&cfg.conns, "conns", 32, "concurrent connections (one client each, one request at a time)")
	flag.IntVar(&cfg.lostClients, "lost-clients", 50, "concurrent clients of the lost-update test")
	flag.IntVar(&cfg.lostIncrements, "lost-increments", 1000, "increments of the lost-update test, over all clients")
	flag.StringVar(&cfg.redis, "redis", "127.0.0.1:6379", "Redis address; empty to skip Redis")
	flag.IntVar(&cfg.redisDB, "redis-db", 15, "Redis database, emptied with FLUSHDB before the run")
	flag.StringVar(&cfg.postgres, "postgres", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL URL; empty to skip PostgreSQL")
	flag.StringVar(&cfg.schema, "schema", "sessionkit_bench", "PostgreSQL schema for the tables, dropped and recreated")
	flag.DurationVar(&cfg.max, "max", 6*time.Minute, "bound on the whole run: cells past it are skipped")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the sessions in Redis and PostgreSQL afterwards (default: FLUSHDB, DROP SCHEMA)")
	flag.Parse()
	log.SetFlags(0)
	if cfg.serve {
		if err := serve(cfg); err != nil {
			log.Fatal("serve: ", err)
		}
		return
	}
	if err := run(cfg); err != nil {
		log.Fatal(err)
	}
}

var endpoints = []string{"login", "read", "modify", "untouched"}

func methodOf(endpoint string) string {
	if endpoint == "login" || endpoint == "modify" {
		return http.MethodPost
	}
	return http.MethodGet
}

type result struct {
	Group, Endpoint, Lib string
	Rep                  int
	Requests, Errors     int
	Seconds              float64
	RPS                  float64
	P50, P99             float64 // milliseconds
	InfoCmds             float64 // per request, from INFO commandstats (server-wide)
	InfoBreakdown        string
	ClientCmds           float64 // per request, counted by the store's client library
	ClientTrips          float64
}

func run(cfg config) error {
	start := time.Now()
	deadline := start.Add(cfg.max)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()

	var rdb *goredis.Client
	if cfg.redis != "" {
		rdb = goredis.NewClient(&goredis.Options{Addr: cfg.redis, DB: cfg.redisDB})
		defer rdb.Close()
		if err := rdb.FlushDB(ctx).Err(); err != nil {
			return fmt.Errorf("redis: %w", err)
		}
	}
	if rdb != nil && !cfg.keep {
		defer rdb.FlushDB(context.Background())
	}
	childPG := ""
	if cfg.postgres != "" {
		conn, err := pgx.Connect(ctx, cfg.postgres)
		if err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		schema := pgx.Identifier{cfg.schema}.Sanitize()
		_, err = conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE; CREATE SCHEMA "+schema)
		if err != nil {
			conn.Close(ctx)
			return fmt.Errorf("postgres: %w", err)
		}
		defer func() {
			// After the servers have stopped (deferred later, so run earlier).
			if !cfg.keep {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
			}
			conn.Close(context.Background())
		}()
		u, err := url.Parse(cfg.postgres)
		if err != nil {
			return err
		}
		q := u.Query()
		q.Set("search_path", cfg.schema)
		u.RawQuery = q.Encode()
		childPG = u.String()
	}

	// The servers, in a child process.
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe, "-serve", "-redis", cfg.redis, "-redis-db", strconv.Itoa(cfg.redisDB), "-postgres", childPG)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("servers did not start: %w", err)
	}
	var infos []stackInfo
	if err := json.Unmarshal(line, &infos); err != nil {
		return fmt.Errorf("servers: %w", err)
	}
	addr := map[string]string{}
	for _, in := range infos {
		addr[in.Name] = in.Addr
	}

	tr := &http.Transport{MaxConnsPerHost: cfg.conns, MaxIdleConnsPerHost: cfg.conns, DisableCompression: true}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	type group struct {
		name string
		libs []string
	}
	var groups []group
	if cfg.redis != "" {
		groups = append(groups, group{"redis", []string{"bare", "sessionkit+redis", "scs+redis", "gorilla+redis"}})
	}
	if cfg.postgres != "" {
		groups = append(groups, group{"postgres", []string{"sessionkit+postgres", "scs+postgres"}})
	}

	fmt.Printf("# loadtest %s\n\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Printf("%s, GOMAXPROCS %d, %d connections, %v per cell after %v warm-up, %d repetitions, medians\n\n",
		runtime.Version(), runtime.GOMAXPROCS(0), cfg.conns, cfg.dur, cfg.warm, cfg.reps)

	// One session per connection and library, made by its login endpoint.
	cookies := map[string][]string{}
	for _, g := range groups {
		for _, lib := range g.libs {
			base := "http://" + addr[lib]
			for range cfg.conns {
				c, err := login(ctx, client, base)
				if err != nil {
					return fmt.Errorf("%s: login: %w", lib, err)
				}
				cookies[lib] = append(cookies[lib], c)
			}
			if lib != "bare" {
				body, err := get(ctx, client, base+"/read", cookies[lib][0])
				if err != nil || !strings.HasPrefix(body, "user") {
					return fmt.Errorf("%s: read after login = %q, %v", lib, body, err)
				}
			}
		}
	}

	var results []result
	for _, g := range groups {
		for rep := range cfg.reps {
			for _, ep := range endpoints {
				libs := rotate(g.libs, rep)
				for _, lib := range libs {
					if time.Now().Add(cfg.dur + cfg.warm).After(deadline) {
						log.Printf("skipping %s %s %s rep %d: -max %v reached", g.name, ep, lib, rep+1, cfg.max)
						continue
					}
					r, err := cell(ctx, cfg, client, rdb, "http://"+addr[lib], ep, cookies[lib])
					if err != nil {
						return fmt.Errorf("%s %s: %w", lib, ep, err)
					}
					r.Group, r.Endpoint, r.Lib, r.Rep = g.name, ep, lib, rep+1
					results = append(results, r)
					log.Printf("%-8s %-9s %-20s rep %d: %8.0f req/s  p99 %6.2f ms  INFO %.2f cmd/req (%s)  client %.2f cmd/req %.2f trips/req  errors %d",
						g.name, ep, lib, rep+1, r.RPS, r.P99, r.InfoCmds, r.InfoBreakdown, r.ClientCmds, r.ClientTrips, r.Errors)
				}
			}
		}
	}

	// Lost updates: many clients increment one session's counter at once.
	var lost []lostResult
	for _, g := range groups {
		for _, lib := range g.libs {
			if lib == "bare" {
				continue
			}
			if time.Now().Add(10 * time.Second).After(deadline) {
				log.Printf("skipping lost updates of %s: -max %v reached", lib, cfg.max)
				continue
			}
			l, err := lostUpdates(ctx, cfg, "http://"+addr[lib])
			if err != nil {
				return fmt.Errorf("%s lost updates: %w", lib, err)
			}
			l.Lib = lib
			lost = append(lost, l)
			log.Printf("lost updates %-20s: %d of %d acknowledged increments lost (final %d, %d failed, %.1fs)",
				lib, l.Lost, l.OK, l.Final, l.Failed, l.Seconds)
		}
	}

	report(results, lost)
	fmt.Printf("\nTotal run time %v.\n", time.Since(start).Round(time.Second))
	raw, _ := json.Marshal(struct {
		Results []result
		Lost    []lostResult
	}{results, lost})
	fmt.Printf("\n<!-- raw: %s -->\n", raw)
	return nil
}

func rotate(s []string, n int) []string {
	n %= len(s)
	return append(slices.Clone(s[n:]), s[:n]...)
}

func login(ctx context.Context, client *http.Client, base string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/login", nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return "", fmt.Errorf("status %s", resp.Status)
	}
	for _, c := range resp.Cookies() {
		if c.Value != "" {
			return c.Name + "=" + c.Value, nil
		}
	}
	return "", nil
}

func get(ctx context.Context, client *http.Client, u, cookie string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return string(b), fmt.Errorf("status %s", resp.Status)
	}
	return string(b), err
}

// phase runs conns workers against base/endpoint for d and returns the
// latencies of the successful requests and the number of failures.
func phase(ctx context.Context, client *http.Client, base, endpoint string, cookies []string, d time.Duration) ([]time.Duration, int, time.Duration) {
	u := base + "/" + endpoint
	method := methodOf(endpoint)
	var wg sync.WaitGroup
	var errs atomic.Int64
	lat := make([][]time.Duration, len(cookies))
	begin := time.Now()
	stop := begin.Add(d)
	for i := range cookies {
		cookie := cookies[i]
		if endpoint == "login" {
			cookie = "" // a visitor without a session logs in
		}
		wg.Go(func() {
			l := make([]time.Duration, 0, 4096)
			for {
				t := time.Now()
				if t.After(stop) || ctx.Err() != nil {
					break
				}
				req, _ := http.NewRequestWithContext(ctx, method, u, nil)
				if cookie != "" {
					req.Header.Set("Cookie", cookie)
				}
				resp, err := client.Do(req)
				if err != nil {
					errs.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode >= 300 {
					errs.Add(1)
					continue
				}
				l = append(l, time.Since(t))
			}
			lat[i] = l
		})
	}
	wg.Wait()
	return slices.Concat(lat...), int(errs.Load()), time.Since(begin)
}

func cell(ctx context.Context, cfg config, client *http.Client, rdb *goredis.Client, base, endpoint string, cookies []string) (result, error) {
	var r result
	if cfg.warm > 0 {
		phase(ctx, client, base, endpoint, cookies, cfg.warm)
	}
	var info0 map[string]int64
	if rdb != nil {
		var err error
		if info0, err = commandStats(ctx, rdb); err != nil {
			return r, err
		}
	}
	st0, err := storeStats(ctx, client, base)
	if err != nil {
		return r, err
	}
	lat, errs, elapsed := phase(ctx, client, base, endpoint, cookies, cfg.dur)
	st1, err := storeStats(ctx, client, base)
	if err != nil {
		return r, err
	}
	n := len(lat) + errs
	r.Requests, r.Errors, r.Seconds = n, errs, elapsed.Seconds()
	r.RPS = float64(len(lat)) / elapsed.Seconds()
	slices.Sort(lat)
	if len(lat) > 0 {
		r.P50 = ms(lat[len(lat)*50/100])
		r.P99 = ms(lat[min(len(lat)-1, len(lat)*99/100)])
	}
	if n > 0 {
		r.ClientCmds = float64(st1.Cmds-st0.Cmds) / float64(n)
		r.ClientTrips = float64(st1.Trips-st0.Trips) / float64(n)
	}
	if rdb != nil {
		info1, err := commandStats(ctx, rdb)
		if err != nil {
			return r, err
		}
		var total int64
		var parts []string
		for _, name := range sortedKeys(info1) {
			d := info1[name] - info0[name]
			if d <= 0 || name == "info" {
				continue
			}
			total += d
			if n > 0 && float64(d)/float64(n) >= 0.005 {
				parts = append(parts, fmt.Sprintf("%s %.2f", name, float64(d)/float64(n)))
			}
		}
		if n > 0 {
			r.InfoCmds = float64(total) / float64(n)
		}
		r.InfoBreakdown = strings.Join(parts, ", ")
	}
	return r, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// commandStats returns the calls of each command from INFO commandstats.
// They count every client of the server, not only this test's.
func commandStats(ctx context.Context, rdb *goredis.Client) (map[string]int64, error) {
	s, err := rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		return nil, err
	}
	m := map[string]int64{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		name, rest, ok := strings.Cut(line, ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		for _, kv := range strings.Split(rest, ",") {
			if v, ok := strings.CutPrefix(kv, "calls="); ok {
				m[strings.TrimPrefix(name, "cmdstat_")], _ = strconv.ParseInt(v, 10, 64)
			}
		}
	}
	return m, nil
}

func storeStats(ctx context.Context, client *http.Client, base string) (stats, error) {
	var s stats
	body, err := get(ctx, client, base+"/stats", "")
	if err != nil {
		return s, err
	}
	return s, json.Unmarshal([]byte(body), &s)
}

type lostResult struct {
	Lib                     string
	OK, Failed, Final, Lost int
	Seconds                 float64
	FailedStatus            map[int]int // status code (0: transport error) -> count
}

// lostUpdates logs in once, then has lostClients clients send
// lostIncrements increments of "n" in that one session at once, and compares
// the acknowledged increments with the final count.
func lostUpdates(ctx context.Context, cfg config, base string) (lostResult, error) {
	var l lostResult
	tr := &http.Transport{MaxConnsPerHost: cfg.lostClients, MaxIdleConnsPerHost: cfg.lostClients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	cookie, err := login(ctx, client, base)
	if err != nil {
		return l, err
	}
	var ok, failed atomic.Int64
	var mu sync.Mutex
	l.FailedStatus = map[int]int{}
	failedWith := func(code int) {
		failed.Add(1)
		mu.Lock()
		l.FailedStatus[code]++
		mu.Unlock()
	}
	var wg sync.WaitGroup
	begin := time.Now()
	for i := range cfg.lostClients {
		n := cfg.lostIncrements / cfg.lostClients
		if i < cfg.lostIncrements%cfg.lostClients {
			n++
		}
		wg.Go(func() {
			for range n {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/modify", nil)
				req.Header.Set("Cookie", cookie)
				resp, err := client.Do(req)
				if err != nil {
					failedWith(0)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode >= 300 {
					failedWith(resp.StatusCode)
					continue
				}
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	l.Seconds = time.Since(begin).Seconds()
	body, err := get(ctx, client, base+"/count", cookie)
	if err != nil {
		return l, err
	}
	final, err := strconv.Atoi(body)
	if err != nil {
		return l, fmt.Errorf("count = %q", body)
	}
	l.OK, l.Failed, l.Final = int(ok.Load()), int(failed.Load()), final
	l.Lost = l.OK - final
	return l, nil
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func report(results []result, lost []lostResult) {
	type key struct{ group, endpoint, lib string }
	var order []key
	byKey := map[key][]result{}
	for _, r := range results {
		k := key{r.Group, r.Endpoint, r.Lib}
		if _, ok := byKey[k]; !ok {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], r)
	}
	slices.SortStableFunc(order, func(a, b key) int {
		if c := strings.Compare(a.group, b.group); c != 0 {
			return -c // redis first
		}
		return slices.Index(endpoints, a.endpoint) - slices.Index(endpoints, b.endpoint)
	})
	fmt.Println("| store | endpoint | stack | req/s | p99 ms | store cmds/req (INFO) | store cmds/req (client) | round trips/req | errors |")
	fmt.Println("|---|---|---|---:|---:|---:|---:|---:|---:|")
	for _, k := range order {
		rs := byKey[k]
		col := func(f func(result) float64) float64 {
			xs := make([]float64, len(rs))
			for i, r := range rs {
				xs[i] = f(r)
			}
			return median(xs)
		}
		errs := 0
		for _, r := range rs {
			errs += r.Errors
		}
		info := "n/a"
		if k.group == "redis" {
			info = fmt.Sprintf("%.2f", col(func(r result) float64 { return r.InfoCmds }))
		}
		fmt.Printf("| %s | %s | %s | %.0f | %.2f | %s | %.2f | %.2f | %d |\n", k.group, k.endpoint, k.lib,
			col(func(r result) float64 { return r.RPS }), col(func(r result) float64 { return r.P99 }),
			info, col(func(r result) float64 { return r.ClientCmds }), col(func(r result) float64 { return r.ClientTrips }), errs)
	}
	fmt.Println()
	fmt.Println("Redis commands by name, per request (INFO commandstats, last repetition):")
	fmt.Println()
	for _, k := range order {
		if k.group != "redis" || k.lib == "bare" {
			continue
		}
		rs := byKey[k]
		fmt.Printf("- %s %s: %s\n", k.lib, k.endpoint, rs[len(rs)-1].InfoBreakdown)
	}
	fmt.Println()
	fmt.Println("| stack | increments acknowledged (2xx) | refused (status: count) | final count | lost (acknowledged, not counted) | time s |")
	fmt.Println("|---|---:|---:|---:|---:|---:|")
	for _, l := range lost {
		refused := fmt.Sprint(l.Failed)
		if l.Failed > 0 {
			var parts []string
			for _, code := range slices.Sorted(maps.Keys(l.FailedStatus)) {
				parts = append(parts, fmt.Sprintf("%d: %d", code, l.FailedStatus[code]))
			}
			refused += " (" + strings.Join(parts, ", ") + ")"
		}
		fmt.Printf("| %s | %d | %s | %d | %d | %.1f |\n", l.Lib, l.OK, refused, l.Final, l.Lost, l.Seconds)
	}
}
