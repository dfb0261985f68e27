package storeurl

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSQLiteConfig(t *testing.T) {
	for _, tc := range []struct {
		name     string
		url      string
		path     string
		interval time.Duration
		batch    int
		err      string
	}{
		{name: "absolute", url: "sqlite:///var/lib/app/sessions.db", path: "/var/lib/app/sessions.db"},
		{name: "absolute, one slash", url: "sqlite:/var/lib/app/sessions.db", path: "/var/lib/app/sessions.db"},
		{name: "relative", url: "sqlite:sessions.db", path: "sessions.db"},
		{name: "relative with directory", url: "sqlite:data/sessions.db", path: "data/sessions.db"},
		{name: "relative after two slashes", url: "sqlite://sessions.db", path: "sessions.db"},
		{name: "relative directory after two slashes", url: "sqlite://data/sessions.db", path: "data/sessions.db"},
		{name: "sqlite3 scheme", url: "sqlite3:///tmp/s.db", path: "/tmp/s.db"},
		{name: "percent-encoded", url: "sqlite:///tmp/my%20sessions%3F.db", path: "/tmp/my sessions?.db"},
		{name: "options", url: "sqlite:///tmp/s.db?sweep_interval=30s&sweep_batch=50", path: "/tmp/s.db", interval: 30 * time.Second, batch: 50},
		{name: "unknown option", url: "sqlite:///tmp/s.db?journal=wal", err: "unknown option journal"},
		{name: "bad duration", url: "sqlite:///tmp/s.db?sweep_interval=5", err: "sweep_interval"},
		{name: "bad batch", url: "sqlite:///tmp/s.db?sweep_batch=-1", err: "sweep_batch"},
		{name: "no path", url: "sqlite:", err: "no database path"},
		{name: "no path after slashes", url: "sqlite://", err: "no database path"},
		{name: "memory", url: "sqlite::memory:", err: "memory:"},
		{name: "bad escape", url: "sqlite:///tmp/%zz.db", err: "percent-encoding"},
		{name: "userinfo", url: "sqlite://u:p@host/s.db", err: "no user or password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, opts, err := sqliteConfig(tc.url)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("sqliteConfig(%q) = %q, %v; want an error containing %q", tc.url, path, err, tc.err)
				}
				return
			}
			if err != nil || path != tc.path || opts.SweepInterval != tc.interval || opts.SweepBatch != tc.batch {
				t.Fatalf("sqliteConfig(%q) = %q, %+v, %v; want %q", tc.url, path, opts, err, tc.path)
			}
		})
	}
}

func TestMemoryOptions(t *testing.T) {
	for _, tc := range []struct {
		name     string
		url      string
		interval time.Duration
		err      string
	}{
		{name: "bare", url: "memory:"},
		{name: "slashes", url: "memory://"},
		{name: "sweep interval", url: "memory:?sweep_interval=10s", interval: 10 * time.Second},
		{name: "host", url: "memory://host", err: "no host or path"},
		{name: "path", url: "memory:sessions", err: "no host or path"},
		{name: "unknown option", url: "memory:?size=10", err: "unknown option size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts, err := memoryOptions(tc.url)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("memoryOptions(%q) = %v; want an error containing %q", tc.url, err, tc.err)
				}
				return
			}
			if err != nil || opts.SweepInterval != tc.interval {
				t.Fatalf("memoryOptions(%q) = %+v, %v", tc.url, opts, err)
			}
		})
	}
}

func TestRedisSentinelOptions(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		url                  string
		master               string
		sentinels            []string
		user, pass           string
		sentinelUser, sentPW string
		db                   int
		tls                  bool
		err                  string
	}{
		{
			name: "minimal", url: "redis-sentinel://10.0.0.1?master=mymaster",
			master: "mymaster", sentinels: []string{"10.0.0.1:26379"},
		},
		{
			name:   "several sentinels, db, credentials",
			url:    "redis-sentinel://app:p%40ss@10.0.0.1:26380,10.0.0.2,[::1]:26381/3?master=mymaster",
			master: "mymaster", sentinels: []string{"10.0.0.1:26380", "10.0.0.2:26379", "[::1]:26381"},
			user: "app", pass: "p@ss", db: 3,
		},
		{
			name:   "sentinel credentials and go-redis options",
			url:    "redis-sentinel://:pw@s1:26379,s2:26379/?master_name=m&sentinel_password=spw&dial_timeout=3s",
			master: "m", sentinels: []string{"s1:26379", "s2:26379"}, pass: "pw", sentPW: "spw",
		},
		{
			name: "tls", url: "rediss-sentinel://s1?master=m",
			master: "m", sentinels: []string{"s1:26379"}, tls: true,
		},
		{name: "no master", url: "redis-sentinel://s1,s2", err: "master"},
		{name: "no host", url: "redis-sentinel:///?master=m", err: "no Sentinel"},
		{name: "unknown option", url: "redis-sentinel://s1?master=m&bogus=1", err: "bogus"},
		{name: "bad port", url: "redis-sentinel://s1:http?master=m", err: "port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := redisSentinelOptions(tc.url)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("redisSentinelOptions(%q) = %v; want an error containing %q", tc.url, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.MasterName != tc.master || !reflect.DeepEqual(o.SentinelAddrs, tc.sentinels) ||
				o.Username != tc.user || o.Password != tc.pass || o.SentinelUsername != tc.sentinelUser ||
				o.SentinelPassword != tc.sentPW || o.DB != tc.db || (o.TLSConfig != nil) != tc.tls {
				t.Fatalf("redisSentinelOptions(%q) = master %q sentinels %v user %q pass %q sentinel %q/%q db %d tls %v",
					tc.url, o.MasterName, o.SentinelAddrs, o.Username, o.Password, o.SentinelUsername, o.SentinelPassword, o.DB, o.TLSConfig != nil)
			}
		})
	}
}

func TestRedisClusterOptions(t *testing.T) {
	for _, tc := range []struct {
		name       string
		url        string
		addrs      []string
		user, pass string
		tls        bool
		readOnly   bool
		err        string
	}{
		{name: "one seed", url: "redis-cluster://10.0.0.1", addrs: []string{"10.0.0.1:6379"}},
		{
			name:  "several seeds, credentials, options",
			url:   "redis-cluster://u:p%3Aw@n1:7000,n2:7001,n3?read_only=true",
			addrs: []string{"n1:7000", "n2:7001", "n3:6379"}, user: "u", pass: "p:w", readOnly: true,
		},
		{name: "tls", url: "rediss-cluster://n1:7000,n2:7000", addrs: []string{"n1:7000", "n2:7000"}, tls: true},
		{name: "trailing slash", url: "redis-cluster://n1/", addrs: []string{"n1:6379"}},
		{name: "database number", url: "redis-cluster://n1/2", err: "no database number"},
		{name: "no host", url: "redis-cluster://", err: "no cluster node"},
		{name: "unknown option", url: "redis-cluster://n1?db=2", err: "db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := redisClusterOptions(tc.url)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("redisClusterOptions(%q) = %v; want an error containing %q", tc.url, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(o.Addrs, tc.addrs) || o.Username != tc.user || o.Password != tc.pass ||
				(o.TLSConfig != nil) != tc.tls || o.ReadOnly != tc.readOnly {
				t.Fatalf("redisClusterOptions(%q) = addrs %v user %q pass %q tls %v read-only %v",
					tc.url, o.Addrs, o.Username, o.Password, o.TLSConfig != nil, o.ReadOnly)
			}
		})
	}
}

func TestMySQLConfig(t *testing.T) {
	for _, tc := range []struct {
		name        string
		url         string
		net, addr   string
		db          string
		user, pass  string
		interpolate bool
		tlsServer   string
		check       func(t *testing.T, timeout time.Duration, params map[string]string)
		err         string
	}{
		{
			name: "full", url: "mysql://app:s%2Fcr%40t@db.internal:3307/sessions",
			net: "tcp", addr: "db.internal:3307", db: "sessions", user: "app", pass: "s/cr@t", interpolate: true,
		},
		{
			name: "default port", url: "mysql://root@10.0.0.5/test",
			net: "tcp", addr: "10.0.0.5:3306", db: "test", user: "root", interpolate: true,
		},
		{
			name: "default host", url: "mysql:///test",
			net: "tcp", addr: "127.0.0.1:3306", db: "test", interpolate: true,
		},
		{
			name: "ipv6", url: "mysql://root@[::1]:3306/test",
			net: "tcp", addr: "[::1]:3306", db: "test", user: "root", interpolate: true,
		},
		{
			name: "mariadb scheme, options", url: "mariadb://root@h/test?timeout=3s&interpolateParams=false&sql_mode=%27ANSI%27",
			net: "tcp", addr: "h:3306", db: "test", user: "root", interpolate: false,
			check: func(t *testing.T, timeout time.Duration, params map[string]string) {
				if timeout != 3*time.Second || params["sql_mode"] != "'ANSI'" {
					t.Fatalf("timeout %v, params %v", timeout, params)
				}
			},
		},
		{
			name: "tls verifies the host", url: "mysql://root@db.example.com/test?tls=true",
			net: "tcp", addr: "db.example.com:3306", db: "test", user: "root", interpolate: true, tlsServer: "db.example.com",
		},
		{
			name: "socket", url: "mysql://root@/test?socket=/run/mysqld/mysqld.sock",
			net: "unix", addr: "/run/mysqld/mysqld.sock", db: "test", user: "root", interpolate: true,
		},
		{name: "socket and host", url: "mysql://root@h/test?socket=/tmp/s", err: "socket"},
		{name: "several hosts", url: "mysql://root@h1,h2/test", err: "one host"},
		{name: "bad option", url: "mysql://root@h/test?timeout=soon", err: "soon"},
		{name: "bad database", url: "mysql://root@h/a/b", err: "database name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := mysqlConfig(tc.url)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("mysqlConfig(%q) = %v; want an error containing %q", tc.url, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Net != tc.net || cfg.Addr != tc.addr || cfg.DBName != tc.db || cfg.User != tc.user ||
				cfg.Passwd != tc.pass || cfg.InterpolateParams != tc.interpolate {
				t.Fatalf("mysqlConfig(%q) = net %q addr %q db %q user %q pass %q interpolate %v",
					tc.url, cfg.Net, cfg.Addr, cfg.DBName, cfg.User, cfg.Passwd, cfg.InterpolateParams)
			}
			if tc.tlsServer != "" && (cfg.TLS == nil || cfg.TLS.ServerName != tc.tlsServer) {
				t.Fatalf("TLS config %+v; want server name %q", cfg.TLS, tc.tlsServer)
			}
			if tc.check != nil {
				tc.check(t, cfg.Timeout, cfg.Params)
			}
		})
	}
}

func TestParseMemcached(t *testing.T) {
	for _, tc := range []struct {
		name    string
		url     string
		servers []string
		prefix  string
		timeout time.Duration
		idle    int
		err     string
	}{
		{name: "one server", url: "memcached://10.0.0.1:11211", servers: []string{"10.0.0.1:11211"}},
		{name: "default port", url: "memcached://cache", servers: []string{"cache:11211"}},
		{name: "default host", url: "memcached://", servers: []string{"127.0.0.1:11211"}},
		{name: "memcache scheme", url: "memcache://c1", servers: []string{"c1:11211"}},
		{
			name: "several servers, options", url: "memcached://c1:11211,c2:11212/?prefix=app1:&timeout=200ms&max_idle_conns=32",
			servers: []string{"c1:11211", "c2:11212"}, prefix: "app1:", timeout: 200 * time.Millisecond, idle: 32,
		},
		{name: "credentials", url: "memcached://u:p@c1", err: "no authentication"},
		{name: "path", url: "memcached://c1/db", err: "no path"},
		{name: "unknown option", url: "memcached://c1?pool=3", err: "unknown option pool"},
		{name: "bad timeout", url: "memcached://c1?timeout=-1s", err: "timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseMemcached(tc.url)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("parseMemcached(%q) = %v; want an error containing %q", tc.url, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.servers, tc.servers) || c.opts.Prefix != tc.prefix || c.timeout != tc.timeout || c.maxIdleConns != tc.idle {
				t.Fatalf("parseMemcached(%q) = %+v", tc.url, c)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct {
		name, url, want string
	}{
		{name: "redis password", url: "redis://:S3CRET@10.0.0.1:6379/0", want: "redis://:xxxxx@10.0.0.1:6379/0"},
		{name: "user and password", url: "postgres://app:S3CRET@db:5432/app?sslmode=verify-full", want: "postgres://app:xxxxx@db:5432/app?sslmode=verify-full"},
		{name: "user only", url: "mysql://root@127.0.0.1:3306/test", want: "mysql://root@127.0.0.1:3306/test"},
		{name: "no userinfo", url: "memcached://c1:11211,c2:11211", want: "memcached://c1:11211,c2:11211"},
		{name: "password with @ and /", url: "redis://u:S3/CR@T@h:6379", want: "redis://u:xxxxx@h:6379"},
		{name: "password in query", url: "redis-sentinel://s1/?master=m&sentinel_password=S3CRET&password=S3CRET", want: "redis-sentinel://s1/?master=m&sentinel_password=xxxxx&password=xxxxx"},
		{name: "libpq secrets", url: "postgres://db/app?sslpassword=S3CRET&sslmode=require", want: "postgres://db/app?sslpassword=xxxxx&sslmode=require"},
		{name: "@ in the query", url: "postgres://db/app?user=a@example.com&password=S3CRET", want: "postgres://db/app?user=a@example.com&password=xxxxx"},
		{name: "sqlite", url: "sqlite:///var/lib/app/sessions.db", want: "sqlite:///var/lib/app/sessions.db"},
		{name: "memory", url: "memory:", want: "memory:"},
		{name: "go-sql-driver DSN", url: "root:S3CRET@tcp(127.0.0.1:3306)/test", want: "root:xxxxx@tcp(127.0.0.1:3306)/test"},
		{name: "keyword DSN", url: "host=db user=app password=S3CRET dbname=app", want: "host=db user=app password=xxxxx dbname=app"},
		{name: "keyword DSN, quoted", url: "host=db password='S3 CRET' dbname=app", want: "host=db password=xxxxx dbname=app"},
		{name: "empty", url: "", want: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Redact(tc.url); got != tc.want {
				t.Fatalf("Redact(%q) = %q; want %q", tc.url, got, tc.want)
			}
		})
	}
}

// TestRedactNeverLeaks: whatever the shape of the string around it, the
// password does not come out of Redact, nor out of Open's errors.
func TestRedactNeverLeaks(t *testing.T) {
	const secret = "S3CRET"
	// Hosts that parse are 127.0.0.1:1, where nothing listens, so that
	// the URLs that parse fail fast on connecting.
	for _, u := range []string{
		"redis://:S3CRET@127.0.0.1:1", "redis://u:S3CRET@127.0.0.1:1", "rediss://u:S3CRET@h:bad/0",
		"redis://u:S3C?RET@127.0.0.1:1/0", "redis://u:S3C#RET@127.0.0.1:1/0", "redis://u:S3C/RET@127.0.0.1:1/0",
		"redis://u:S3C%zzRET@127.0.0.1:1/0", "redis://u:S3CRET@127.0.0.1:1/0?dial_timeout=x",
		"redis://u:S3CRET@127.0.0.1:1/x", "redis://u:S3CRET@127.0.0.1:1?bogus=1",
		"redis-sentinel://u:S3CRET@s1,s2", "redis-sentinel://u:S3CRET@s1:x?master=m",
		"redis-sentinel://s1?master=m&password=S3CRET&bogus=1", "redis-sentinel://u:S3C%zzRET@s1?master=m",
		"redis-cluster://u:S3CRET@n1/3", "redis-cluster://u:S3CRET@n1:x",
		"postgres://u:S3CRET@h:x/db", "postgres://u:S3CRET@127.0.0.1:1/db?sslmode=bogus", "postgresql://u:S3C%zzRET@h/db",
		"postgres://u:S3CRET@127.0.0.1:1/db?connect_timeout=1",
		"mysql://u:S3CRET@h1,h2/db", "mysql://u:S3CRET@h/db?timeout=x", "mysql://u:S3C%zzRET@h/db",
		"mysql://u:S3CRET@h:99999/db", "mysql://u:S3CRET@127.0.0.1:1/db",
		"memcached://u:S3CRET@c1", "bogus://u:S3CRET@h", "u:S3CRET@tcp(h)/db", "password=S3CRET",
		"sqlite://u:S3CRET@h", "memory://u:S3CRET@h",
	} {
		if got := Redact(u); strings.Contains(got, secret) {
			t.Errorf("Redact(%q) = %q", u, got)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		s, err := Open(ctx, u)
		cancel()
		if err == nil {
			if c, ok := s.(interface{ Close() error }); ok {
				c.Close()
			}
			t.Errorf("Open(%q) succeeded", u)
			continue
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "%zz") {
			t.Errorf("Open(%q) error shows the password: %v", u, err)
		}
	}
}
