package reliability

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/internal/testenv"
	"github.com/sessionkit/session/redisstore"
)

// redisServer is a redis-server owned by a test, on a port the kernel
// reported free, which the test kills and starts again on the same port and
// directory. It runs with the append-only file on and fsync at every write
// (appendfsync always), so that every write Redis acknowledged survives a
// SIGKILL; RDB snapshots are off.
type redisServer struct {
	bin  string
	dir  string
	port int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
}

func (s *redisServer) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// startRedis starts a private redis-server, killed when the test ends. It
// skips when redis-server is not installed, except under CI.
func startRedis(t testing.TB) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if testenv.InCI() {
			t.Fatalf("redis-server not installed, required under CI: %v", err)
		}
		t.Skipf("redis-server not installed (apt-get install redis-server to run this test): %v", err)
	}
	dir := t.TempDir()
	for range 3 { // a port taken between the check and the start: try another
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		s := &redisServer{bin: bin, dir: dir, port: port}
		if err = s.start(); err == nil {
			t.Cleanup(s.kill)
			return s
		}
		t.Logf("redis-server on port %d: %v", port, err)
	}
	t.Fatal("could not start redis-server")
	return nil
}

// start starts the process and waits until it answers PING, which it does
// once it has loaded its append-only file.
func (s *redisServer) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("already running")
	}
	logFile, err := os.OpenFile(filepath.Join(s.dir, "redis.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	args := []string{"--bind", "127.0.0.1", "--port", strconv.Itoa(s.port), "--dir", s.dir, "--logfile", "",
		"--save", "", "--appendonly", "yes", "--appendfsync", "always"}
	cmd := exec.Command(s.bin, args...)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return err
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		logFile.Close()
		close(done)
	}()
	s.cmd, s.done = cmd, done
	if err := waitPing(s.addr(), done, 10*time.Second); err != nil {
		cmd.Process.Kill()
		<-done
		s.cmd = nil
		return fmt.Errorf("%w; log:\n%s", err, s.logTail())
	}
	return nil
}

// kill kills the process (SIGKILL: a crash, nothing flushed on the way out)
// and waits for it to exit.
func (s *redisServer) kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

func (s *redisServer) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// waitPing waits until addr answers PING, the process exits, or the timeout
// passes.
func waitPing(addr string, exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-exited:
			return errors.New("redis-server exited")
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.SetDeadline(time.Now().Add(500 * time.Millisecond))
			_, err = c.Write([]byte("PING\r\n"))
			var line string
			if err == nil {
				line, err = bufio.NewReader(c).ReadString('\n')
			}
			c.Close()
			if err == nil && strings.HasPrefix(line, "+PONG") {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return errors.New("no answer to PING")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// redisPlan says how long to run the load and how often to stop Redis.
type redisPlan struct {
	clients int
	before  time.Duration // load before each outage
	down    time.Duration // how long Redis stays down
	after   time.Duration // load after the last restart
	outages int           // how many outages; 0: as many as fit in until
	until   time.Time     // with outages 0: no outage starts after this
	leaks   bool          // check goroutines (not when scenarios run in parallel)
}

// TestRedisOutage kills the session store's Redis under load, keeps it down
// for a second and starts it again on the same port: requests fail with 503
// while it is down, succeed again within a second of its return with the
// same manager and client, and no acknowledged increment is lost.
func TestRedisOutage(t *testing.T) {
	runRedis(t, redisPlan{clients: 16, before: 1500 * time.Millisecond, down: time.Second, after: 2500 * time.Millisecond, outages: 1, leaks: true})
}

func runRedis(t *testing.T, plan redisPlan) {
	baseline := goroutines()
	srv := startRedis(t)

	// The client as redisstore's documentation recommends; go-redis's
	// defaults otherwise (retries, dial retries, pool size). The dialer only
	// records when go-redis connects.
	opts := &redis.Options{Addr: srv.addr(), ContextTimeoutEnabled: true}
	dials := &dialLog{dial: redis.NewDialer(opts)}
	opts.Dialer = dials.Dial
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	store := redisstore.New(rdb, redisstore.Options{Prefix: "reliability:"})
	obs := newObserver()
	a := serve(t, newManager(t, store, obs), requestTimeout)
	l := newLoad(t, a.URL, plan.clients, obs)
	t.Cleanup(l.close)
	l.warmUp()

	type outage struct{ kill, dead, restart, up time.Time }
	var outages []outage
	begin := time.Now()
	l.start()
	for i := 0; ; i++ {
		if plan.outages > 0 && i == plan.outages || plan.outages == 0 && time.Now().Add(plan.before).After(plan.until) {
			break
		}
		time.Sleep(plan.before)
		var o outage
		o.kill = time.Now()
		srv.kill()
		o.dead = time.Now()
		time.Sleep(plan.down)
		o.restart = time.Now()
		if err := srv.start(); err != nil {
			close(l.stop)
			l.wg.Wait()
			t.Fatalf("restarting redis-server: %v", err)
		}
		o.up = time.Now()
		outages = append(outages, o)
	}
	time.Sleep(plan.after)
	l.stopAndWait()
	end := time.Now()
	acked, sent := l.verify()

	// While down, nothing succeeded; once back, everything did within
	// recoveryBound.
	var quiet []window
	from := begin
	var worstFail, worstRecovery time.Duration
	var during stats
	for i, o := range outages {
		quiet = append(quiet, window{from, o.kill})
		st := l.checkDown(window{o.dead, o.restart})
		next := end.Add(time.Hour)
		if i+1 < len(outages) {
			next = outages[i+1].kill
		}
		lastFail, firstOK := l.recovery(o.up, next)
		if i < 3 || i == len(outages)-1 {
			t.Logf("outage %d: Redis killed at %v, down %v (killed, restarted, answering PING %v after the restart began); during the outage %v; "+
				"back: first successful dial %v after, last failure %v after, first success %v after",
				i+1, o.kill.Sub(l.t0).Round(time.Millisecond), o.restart.Sub(o.dead).Round(time.Millisecond), o.up.Sub(o.restart).Round(time.Millisecond), st,
				dials.firstAfter(o.restart).Sub(o.up).Round(time.Millisecond), lastFail.Round(time.Millisecond), firstOK.Round(time.Millisecond))
		}
		during.total += st.total
		during.ok += st.ok
		during.unavailable += st.unavailable
		during.other += st.other
		worstFail = max(worstFail, st.maxFail)
		worstRecovery = max(worstRecovery, lastFail)
		from = o.up.Add(recoveryBound)
	}
	quiet = append(quiet, window{from, end.Add(time.Hour)})
	qs := l.checkQuiet(quiet)
	all := l.stats(func(sample) bool { return true })
	t.Logf("%d clients, %v of load, %d outages: %v (%s)", plan.clients, end.Sub(begin).Round(time.Millisecond), len(outages), all, l.opStats())
	t.Logf("around the outages: %d requests, %d 503, %d ok (begun before the kill or ended after the restart), slowest failure %v; slowest recovery %v",
		during.total, during.unavailable, during.ok, worstFail.Round(time.Millisecond), worstRecovery.Round(time.Millisecond))
	t.Logf("with Redis healthy (before the first outage, and from %v after each restart): %d requests, %d failed before the deadline, %d reached the %v deadline",
		recoveryBound, qs.total, qs.failed, qs.timedOut, requestTimeout)
	oks, fails := dials.counts()
	t.Logf("go-redis dials: %d succeeded, %d failed", oks, fails)
	if len(outages) > 0 {
		o := outages[len(outages)-1]
		if n, last := obs.errorsAfter(o.up); n > 0 {
			t.Logf("store errors after Redis answered PING again (last outage): %d, the last %v after: %v", n, last.at.Sub(o.up).Round(time.Millisecond), last.err)
		}
	}
	t.Logf("increments: %d acknowledged, %d sent; every final counter checked against them", acked, sent)
	t.Logf("manager: %s", obs.summary())
	t.Logf("unknown-session events (a cookie that opened nothing): %d; sessions lost by clients: %d", obs.eventCount("unknown"), l.lostSessions())
	if n := orphans(t, store, l); n > 0 {
		t.Logf("sessions of the load's users that no client holds (left by failed logins): %d", n)
	}
	l.report(t)
	a.checkPanics(t)

	if plan.leaks {
		l.close()
		a.Close()
		rdb.Close()
		srv.kill()
		checkLeaks(t, baseline)
	}
}

// dialLog records go-redis's connection attempts.
type dialLog struct {
	dial  func(ctx context.Context, network, addr string) (net.Conn, error)
	mu    sync.Mutex
	oks   []time.Time
	fails int
}

func (d *dialLog) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := d.dial(ctx, network, addr)
	d.mu.Lock()
	if err != nil {
		d.fails++
	} else {
		d.oks = append(d.oks, time.Now())
	}
	d.mu.Unlock()
	return c, err
}

func (d *dialLog) counts() (oks, fails int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.oks), d.fails
}

// firstAfter returns the time of the first successful dial after t.
func (d *dialLog) firstAfter(t time.Time) time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, ok := range d.oks {
		if ok.After(t) {
			return ok
		}
	}
	return time.Time{}
}

// quietRedis silences go-redis's own log, which reports every failed dial
// on stderr; the tests count the failures themselves.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

func init() { redis.SetLogger(quietRedis{}) }

// orphans counts the live sessions listed for the load's users beyond the
// one each client holds: sessions that a failed login created and could not
// delete again while the store was down. They are not an error (nobody holds
// their token, and they expire), but they show in the user's device list.
func orphans(t testing.TB, idx session.SubjectIndex, l *load) int {
	n := 0
	for _, c := range l.clients {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		recs, err := idx.ListSubject(ctx, c.user)
		cancel()
		if err != nil {
			t.Errorf("ListSubject(%s): %v", c.user, err)
			continue
		}
		n += max(0, len(recs)-1)
	}
	return n
}
