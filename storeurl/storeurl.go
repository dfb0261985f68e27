// Package storeurl opens a session store from a URL, so that an app picks its
// store with one setting (a flag or an environment variable) and links every
// store in:
//
//	store, err := storeurl.Open(ctx, os.Getenv("SESSION_STORE")) // e.g. "redis://127.0.0.1:6379/0"
//	if err != nil {
//		return err
//	}
//	defer store.(io.Closer).Close()
//
// The store returned by Open always implements io.Closer, and Close releases
// everything Open created: the client, connection pool or database, and the
// store's background sweeper. It implements the same optional capabilities
// (session.Toucher, session.SubjectIndex, ...) as the store package's Store
// it opened; stores that Open wraps to add Close also have an
// Unwrap() session.Store method that returns that Store.
//
// Open connects (or opens the file) before it returns, so a wrong address or
// password fails at startup, not on the first request. It imports every store
// package and their drivers; an app that wants a single store and a small
// binary calls that store's constructor instead.
//
// # URLs
//
//	memory:                                  memstore, sessions in this process
//	sqlite:///var/lib/app/sessions.db        sqlitestore, absolute path
//	sqlite:sessions.db                       sqlitestore, path relative to the working directory
//	sqlite://data/sessions.db                sqlitestore, relative path (data/sessions.db)
//	redis://[user:password@]host[:6379][/db][?options]
//	rediss://...                             the same over TLS
//	redis-sentinel://[user:password@]host[:26379],host.../[db]?master=name[&options]
//	redis-cluster://[user:password@]host[:6379],host...[?options]
//	postgres://user:password@host[:5432]/db[?options]   (or postgresql://)
//	mysql://user:password@host[:3306]/db[?options]      (or mariadb://)
//	memcached://host[:11211][,host...][?options]
//
// Details, per scheme:
//
//   - memory: accepts sweep_interval (a Go duration, default 1m).
//   - sqlite (or sqlite3): the path is percent-decoded. After "sqlite:" a
//     path with no slashes or one slash is taken as it is; after
//     "sqlite://", as in "sqlite://data/sessions.db", the rest is a path
//     relative to the working directory; after "sqlite:///" it is absolute.
//     The directory must exist. Options: sweep_interval (default 5m),
//     sweep_batch (default 1000). ":memory:" is refused: use memory:.
//   - redis, rediss: parsed by go-redis's redis.ParseURL; its options are
//     go-redis's, in snake case (dial_timeout=3s, pool_size=20, ...), and an
//     unknown option is an error.
//   - redis-sentinel, rediss-sentinel: the hosts are the Sentinels (default
//     port 26379); master (or master_name) is required. The user and password
//     are those of the Redis servers; Sentinels that need a password of their
//     own take sentinel_username and sentinel_password. The path is the
//     database number. Other options as for redis.
//   - redis-cluster, rediss-cluster: the hosts are seed nodes of the cluster
//     (default port 6379); there is no database number. Options as for redis
//     (read_only, route_by_latency, ...).
//   - postgres, postgresql: parsed by pgx (pgxpool.ParseConfig): libpq
//     options (sslmode, connect_timeout, ...), several hosts separated by
//     commas, and pgxpool's pool_max_conns and friends. Unknown options are
//     sent to the server as run-time parameters.
//   - mysql, mariadb: converted to a go-sql-driver/mysql configuration; the
//     options are that driver's DSN parameters (tls, timeout, charset, ...).
//     socket=/path connects to a Unix socket instead of host:port.
//     interpolateParams defaults to true, saving a round trip per operation;
//     set interpolateParams=false to turn it off.
//   - memcached (or memcache): one or more servers, default port 11211; no
//     user or password, since memcached's text protocol has none. Options:
//     prefix (default "session:"), timeout (default 500ms) and
//     max_idle_conns (default 2: raise it to the peak of concurrent
//     requests).
//
// Passwords may hold any character when percent-encoded ("p%40ss" for
// "p@ss"). Use Redact to log a URL.
//
// Store options beyond the ones above keep their defaults; OpenWith sets the
// key prefix of redisstore and memcachedstore and the table of pgstore and
// mysqlstore, and opens only a store that exists. For other options, call the
// store's constructor.
package storeurl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/sessionkit/session"
)

// schemes lists the URL schemes Open accepts, for its errors.
var schemes = []string{
	"memory",
	"sqlite", "sqlite3",
	"redis", "rediss",
	"redis-sentinel", "rediss-sentinel",
	"redis-cluster", "rediss-cluster",
	"postgres", "postgresql",
	"mysql", "mariadb",
	"memcached", "memcache",
}

// Open opens the session store named by rawURL (see the package doc for the
// URLs it accepts) and connects to it. The store implements io.Closer; its
// Close releases everything Open created. Like every store, it is safe for
// concurrent use; Open itself may be called concurrently too. ctx bounds the connection and the
// migrations, not the store's later use. Errors name the URL with its
// password hidden.
func Open(ctx context.Context, rawURL string) (session.Store, error) {
	return OpenWith(ctx, rawURL, Options{})
}

// OpenWith is Open with options; OpenWith(ctx, rawURL, Options{}) is
// Open(ctx, rawURL).
func OpenWith(ctx context.Context, rawURL string, opts Options) (session.Store, error) {
	scheme, _, ok := strings.Cut(rawURL, ":")
	if !ok || !isScheme(scheme) {
		return nil, fmt.Errorf("storeurl: %q is not a store URL: it needs a scheme (%s)", Redact(rawURL), strings.Join(schemes, ", "))
	}
	var (
		s   session.Store
		err error
	)
	switch strings.ToLower(scheme) {
	case "memory":
		s, err = openMemory(rawURL, opts)
	case "sqlite", "sqlite3":
		s, err = openSQLite(ctx, rawURL, opts)
	case "redis", "rediss":
		s, err = openRedis(ctx, rawURL, opts)
	case "redis-sentinel", "rediss-sentinel":
		s, err = openRedisSentinel(ctx, rawURL, opts)
	case "redis-cluster", "rediss-cluster":
		s, err = openRedisCluster(ctx, rawURL, opts)
	case "postgres", "postgresql":
		s, err = openPostgres(ctx, rawURL, opts)
	case "mysql", "mariadb":
		s, err = openMySQL(ctx, rawURL, opts)
	case "memcached", "memcache":
		s, err = openMemcached(rawURL, opts)
	default:
		return nil, fmt.Errorf("storeurl: unknown scheme %q in %q (supported: %s)", scheme, Redact(rawURL), strings.Join(schemes, ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("storeurl: %s: %w", Redact(rawURL), err)
	}
	return s, nil
}

// resources closes, once, a store (if it has a Close) and then what Open
// created for it, in order.
type resources struct {
	once    sync.Once
	err     error
	closers []func() error
}

func (r *resources) close(store any) error {
	r.once.Do(func() {
		var errs []error
		if c, ok := store.(io.Closer); ok {
			errs = append(errs, c.Close())
		}
		for _, c := range r.closers {
			errs = append(errs, c())
		}
		if err := errors.Join(errs...); err != nil {
			r.err = fmt.Errorf("storeurl: close: %w", err)
		}
	})
	return r.err
}
