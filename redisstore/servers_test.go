package redisstore_test

// Redis servers owned by the tests: a small cluster and a Sentinel setup,
// shared by the tests that need them and started on first use, and servers
// that one test starts, stops and restarts. All are started from the
// installed redis-server on ports the kernel reports free, and killed when
// the tests end (and, on Linux, when the test binary dies).

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/session/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	fixtures.stop()
	os.Exit(code)
}

// lookBinary returns the path of an installed program the test needs, or
// ends the test: a skip on a developer's machine, a failure under CI.
func lookBinary(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if testenv.InCI() {
			t.Fatalf("%s not installed, required under CI: %v", name, err)
		}
		t.Skipf("%s not installed (apt-get install redis-server to run this test): %v", name, err)
	}
	return path
}

// server is a redis-server process on a fixed port, which may be stopped and
// started again.
type server struct {
	bin  string
	dir  string
	port int
	args []string // all but --port

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
}

func (s *server) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// start starts the process and waits until it answers PING.
func (s *server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("already running")
	}
	logFile, err := os.OpenFile(filepath.Join(s.dir, "redis.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.bin, append(slices.Clone(s.args), "--port", strconv.Itoa(s.port))...)
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
		s.cmd.Process.Kill()
		<-done
		s.cmd = nil
		return fmt.Errorf("redis-server on %s: %w; log:\n%s", s.addr(), err, s.logTail())
	}
	return nil
}

// stop kills the process and waits for it to exit.
func (s *server) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

func (s *server) logTail() string {
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
			return errors.New("exited")
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
		time.Sleep(20 * time.Millisecond)
	}
}

// freePorts returns n distinct TCP ports that are free on 127.0.0.1 now,
// as chosen by the kernel.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// launch starts a server on free ports: the first is the server's, the
// others (nports-1 of them) are for args, which builds the arguments. A
// port taken between the check and the start is retried with new ports.
func launch(bin, dir string, nports int, args func(ports []int) []string) (*server, error) {
	var err error
	for range 3 {
		var ports []int
		if ports, err = freePorts(nports); err != nil {
			return nil, err
		}
		s := &server{bin: bin, dir: dir, port: ports[0], args: args(ports)}
		if err = s.start(); err == nil {
			return s, nil
		}
	}
	return nil, err
}

// plainArgs are the options of every data server: loopback only, nothing
// written to disk.
func plainArgs(dir string) []string {
	return []string{"--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--logfile", ""}
}

// startServer starts a server owned by one test, stopped and removed when
// the test ends.
func startServer(t *testing.T, extra ...string) *server {
	t.Helper()
	bin := lookBinary(t, "redis-server")
	dir := t.TempDir()
	s, err := launch(bin, dir, 1, func([]int) []string { return append(plainArgs(dir), extra...) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.stop)
	return s
}

// fixtures are the servers shared by tests, started on first use and
// stopped by TestMain.
var fixtures shared

type shared struct {
	mu      sync.Mutex
	servers []*server
	dirs    []string

	clusterOnce  sync.Once
	clusterAddrs []string
	clusterErr   error

	sentinelOnce sync.Once
	sentinelAddr string
	sentinelErr  error
}

func (f *shared) launch(bin string, nports int, args func(dir string, ports []int) []string) (*server, error) {
	dir, err := os.MkdirTemp("", "redisstore-test-")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.dirs = append(f.dirs, dir)
	f.mu.Unlock()
	s, err := launch(bin, dir, nports, func(ports []int) []string { return args(dir, ports) })
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.servers = append(f.servers, s)
	f.mu.Unlock()
	return s, nil
}

func (f *shared) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.servers {
		s.stop()
	}
	for _, dir := range f.dirs {
		os.RemoveAll(dir)
	}
	f.servers, f.dirs = nil, nil
}

// cluster returns the addresses of a Redis Cluster of three masters without
// replicas, started on first use.
func cluster(t *testing.T) []string {
	t.Helper()
	bin := lookBinary(t, "redis-server")
	cli := lookBinary(t, "redis-cli")
	fixtures.clusterOnce.Do(func() {
		fixtures.clusterAddrs, fixtures.clusterErr = fixtures.startCluster(bin, cli)
	})
	if fixtures.clusterErr != nil {
		t.Fatalf("starting a Redis Cluster: %v", fixtures.clusterErr)
	}
	return fixtures.clusterAddrs
}

func (f *shared) startCluster(bin, cli string) ([]string, error) {
	var addrs []string
	for range 3 {
		s, err := f.launch(bin, 2, func(dir string, ports []int) []string {
			return append(plainArgs(dir), "--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(ports[1]),
				"--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000")
		})
		if err != nil {
			return nil, err
		}
		addrs = append(addrs, s.addr())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("redis-cli --cluster create: %w\n%s", err, out)
	}
	// redis-cli waits for the nodes to agree on the configuration; wait
	// until each also reports the cluster usable.
	for _, addr := range addrs {
		c := redis.NewClient(&redis.Options{Addr: addr})
		err := waitFor(ctx, func() error {
			info, err := c.ClusterInfo(ctx).Result()
			if err == nil && !strings.Contains(info, "cluster_state:ok") {
				err = errors.New("cluster_state is not ok")
			}
			return err
		})
		c.Close()
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", addr, err)
		}
	}
	return addrs, nil
}

// sentinelMaster is the name under which the Sentinel monitors its master.
const sentinelMaster = "sessionkit"

// sentinel returns the address of a Sentinel that monitors a master named
// sentinelMaster, both started on first use.
func sentinel(t *testing.T) string {
	t.Helper()
	bin := lookBinary(t, "redis-server")
	fixtures.sentinelOnce.Do(func() {
		fixtures.sentinelAddr, fixtures.sentinelErr = fixtures.startSentinel(bin)
	})
	if fixtures.sentinelErr != nil {
		t.Fatalf("starting Redis Sentinel: %v", fixtures.sentinelErr)
	}
	return fixtures.sentinelAddr
}

func (f *shared) startSentinel(bin string) (string, error) {
	master, err := f.launch(bin, 1, func(dir string, _ []int) []string { return plainArgs(dir) })
	if err != nil {
		return "", err
	}
	s, err := f.launch(bin, 1, func(dir string, _ []int) []string {
		// Sentinel rewrites its configuration file, so it gets its own.
		conf := filepath.Join(dir, "sentinel.conf")
		os.WriteFile(conf, []byte(fmt.Sprintf(
			"bind 127.0.0.1\ndir %s\nsentinel monitor %s 127.0.0.1 %d 1\nsentinel down-after-milliseconds %s 60000\n",
			dir, sentinelMaster, master.port, sentinelMaster)), 0o644)
		return []string{conf, "--sentinel"}
	})
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := redis.NewSentinelClient(&redis.Options{Addr: s.addr()})
	defer c.Close()
	err = waitFor(ctx, func() error {
		addr, err := c.GetMasterAddrByName(ctx, sentinelMaster).Result()
		if err == nil && (len(addr) != 2 || addr[1] != strconv.Itoa(master.port)) {
			err = fmt.Errorf("master address %v", addr)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	return s.addr(), nil
}

// waitFor calls check until it returns nil or ctx ends.
func waitFor(ctx context.Context, check func() error) error {
	for {
		err := check()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
