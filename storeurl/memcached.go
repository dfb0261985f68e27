package storeurl

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memcachedstore"
)

// memcachedStore is a memcachedstore.Store that owns its client.
type memcachedStore struct {
	*memcachedstore.Store
	own *resources
}

// Close closes the connections of the client Open created.
func (s *memcachedStore) Close() error { return s.own.close(s.Store) }

// Unwrap returns the memcachedstore.Store.
func (s *memcachedStore) Unwrap() session.Store { return s.Store }

type memcachedConfig struct {
	servers      []string
	opts         memcachedstore.Options
	timeout      time.Duration
	maxIdleConns int
}

// parseMemcached parses memcached://host:port[,host:port][?prefix=...&timeout=...&max_idle_conns=...].
func parseMemcached(raw string) (*memcachedConfig, error) {
	u, err := parseHosts(raw)
	if err != nil {
		return nil, err
	}
	if u.user != nil {
		return nil, errors.New("memcached has no authentication: remove the user and password")
	}
	if strings.Trim(u.path, "/") != "" {
		return nil, errors.New("memcached takes no path")
	}
	if len(u.hosts) == 0 {
		u.hosts = []string{"127.0.0.1"}
	}
	c := &memcachedConfig{}
	if c.servers, err = withPorts(u.hosts, "11211"); err != nil {
		return nil, err
	}
	o := newOptions(u.query)
	c.opts.Prefix = o.string("prefix")
	c.timeout = o.duration("timeout")
	c.maxIdleConns = o.int("max_idle_conns")
	if err := o.done(); err != nil {
		return nil, err
	}
	return c, nil
}

func openMemcached(raw string, o Options) (session.Store, error) {
	c, err := parseMemcached(raw)
	if err != nil {
		return nil, err
	}
	if o.Table != "" {
		return nil, errors.New("memcached has no table name to choose (use a prefix)")
	}
	if o.Prefix != "" {
		c.opts.Prefix = o.Prefix
	}
	servers := new(memcache.ServerList)
	if err := servers.SetServers(c.servers...); err != nil {
		return nil, err
	}
	client := memcache.NewFromSelector(servers)
	client.Timeout = c.timeout
	client.MaxIdleConns = c.maxIdleConns
	if err := client.Ping(); err != nil {
		client.Close()
		return nil, fmt.Errorf("ping: %w", err)
	}
	return &memcachedStore{
		Store: memcachedstore.New(client, c.opts),
		own:   &resources{closers: []func() error{client.Close}},
	}, nil
}
