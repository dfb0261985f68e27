package storeurl

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/session"
	"github.com/sessionkit/session/redisstore"
)

// redisStore is a redisstore.Store that owns its client.
type redisStore struct {
	*redisstore.Store
	own *resources
}

// Close closes the store, then the client Open created.
func (s *redisStore) Close() error { return s.own.close(s.Store) }

// Unwrap returns the redisstore.Store.
func (s *redisStore) Unwrap() session.Store { return s.Store }

func openRedis(ctx context.Context, raw string, o Options) (session.Store, error) {
	// The errors of redis.ParseURL would quote a malformed escape in the
	// password; parseHosts checks the userinfo first without quoting it.
	if _, err := parseHosts(raw); err != nil {
		return nil, err
	}
	opts, err := redis.ParseURL(raw)
	if err != nil {
		return nil, unquote(err)
	}
	return newRedis(ctx, redis.NewClient(opts), o)
}

func openRedisSentinel(ctx context.Context, raw string, o Options) (session.Store, error) {
	opts, err := redisSentinelOptions(raw)
	if err != nil {
		return nil, err
	}
	return newRedis(ctx, redis.NewFailoverClient(opts), o)
}

func openRedisCluster(ctx context.Context, raw string, o Options) (session.Store, error) {
	opts, err := redisClusterOptions(raw)
	if err != nil {
		return nil, err
	}
	return newRedis(ctx, redis.NewClusterClient(opts), o)
}

func newRedis(ctx context.Context, client redis.UniversalClient, o Options) (session.Store, error) {
	if o.Table != "" {
		client.Close()
		return nil, errors.New("redis has no table name to choose (use a prefix)")
	}
	// Existing: a Redis database has no schema; any database is a store.
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return nil, fmt.Errorf("ping: %w", err)
	}
	return &redisStore{
		Store: redisstore.New(client, redisstore.Options{Prefix: o.Prefix}),
		own:   &resources{closers: []func() error{client.Close}},
	}, nil
}

// redisScheme returns the scheme go-redis parses for a redis-sentinel,
// rediss-sentinel, redis-cluster or rediss-cluster URL.
func redisScheme(scheme string) string {
	if strings.HasPrefix(scheme, "rediss") {
		return "rediss"
	}
	return "redis"
}

// redisSentinelOptions converts
// redis-sentinel://[user:password@]host,host/[db]?master=name[&sentinel_password=...]
// into the URL redis.ParseFailoverURL reads, whose userinfo is the
// Sentinels' and whose other hosts are addr options.
func redisSentinelOptions(raw string) (*redis.FailoverOptions, error) {
	u, err := parseHosts(raw)
	if err != nil {
		return nil, err
	}
	hosts, err := withPorts(u.hosts, "26379")
	if err != nil {
		return nil, err
	}
	if len(hosts) == 0 {
		return nil, errors.New("no Sentinel address")
	}
	q := u.query
	master := q.Get("master")
	if master == "" {
		master = q.Get("master_name")
	}
	if master == "" {
		return nil, errors.New("the master option is required (?master=name)")
	}
	q.Del("master")
	q.Set("master_name", master)
	failover := url.URL{Scheme: redisScheme(u.scheme), Host: hosts[0], Path: u.path}
	if name, pass := q.Get("sentinel_username"), q.Get("sentinel_password"); name != "" || pass != "" {
		failover.User = url.UserPassword(name, pass)
	}
	q.Del("sentinel_username")
	q.Del("sentinel_password")
	if u.user != nil {
		q.Set("username", u.user.Username())
		if pass, ok := u.user.Password(); ok {
			q.Set("password", pass)
		}
	}
	for _, h := range hosts[1:] {
		q.Add("addr", h)
	}
	failover.RawQuery = q.Encode()
	opts, err := redis.ParseFailoverURL(failover.String())
	if err != nil {
		return nil, unquote(err)
	}
	return opts, nil
}

// redisClusterOptions converts redis-cluster://[user:password@]host,host[?options]
// into the URL redis.ParseClusterURL reads, whose other hosts are addr
// options.
func redisClusterOptions(raw string) (*redis.ClusterOptions, error) {
	u, err := parseHosts(raw)
	if err != nil {
		return nil, err
	}
	hosts, err := withPorts(u.hosts, "6379")
	if err != nil {
		return nil, err
	}
	if len(hosts) == 0 {
		return nil, errors.New("no cluster node address")
	}
	if strings.Trim(u.path, "/") != "" {
		return nil, errors.New("a Redis Cluster has no database number: remove the path")
	}
	q := u.query
	for _, h := range hosts[1:] {
		q.Add("addr", h)
	}
	cluster := url.URL{Scheme: redisScheme(u.scheme), User: u.user, Host: hosts[0], RawQuery: q.Encode()}
	opts, err := redis.ParseClusterURL(cluster.String())
	if err != nil {
		return nil, unquote(err)
	}
	return opts, nil
}
