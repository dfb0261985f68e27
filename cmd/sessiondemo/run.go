package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/csrf"
	"github.com/sessionkit/session/internal/httpserver"
	"github.com/sessionkit/session/ratelimit"
	"github.com/sessionkit/session/ratelimit/redislimit"
	"github.com/sessionkit/session/sessionprom"
	"github.com/sessionkit/session/storeurl"
)

// config is the command line.
type config struct {
	addr            string
	store           string
	rateLimitStore  string
	idleTimeout     time.Duration
	absoluteTimeout time.Duration
	rememberIdle    time.Duration // of a session with "keep me signed in"
	rememberAbs     time.Duration
	insecureCookie  bool
	recentAuth      time.Duration
	logLevel        slog.Level
	csrfKeyFile     string
	clientChange    string // log, reauth or destroy
	maxSessions     int
	maxPolicy       string // evict-oldest or refuse-new
	trustedProxies  ratelimit.TrustedProxies
	proxyHeader     string // x-forwarded-for or forwarded
}

// clientChangePolicies maps -client-change to the library's policies.
var clientChangePolicies = map[string]session.ClientChangePolicy{
	"log":     session.ClientChangeLog,
	"reauth":  session.ClientChangeReauth,
	"destroy": session.ClientChangeDestroy,
}

const usage = `Usage: sessiondemo [flags]

sessiondemo is sessionkit's reference web app: a small shop with sign-in,
a cart, preferences, a checkout, "your devices" and an admin view of live
sessions. It keeps its sessions in an SQLite file in the working directory
unless -store says otherwise. Demo accounts: alice / wonderland (admin) and
bob / builder (customer).

Flags:
`

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("sessiondemo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "listen `address`; port 0 picks a free port")
	fs.StringVar(&c.store, "store", "sqlite:sessiondemo.db",
		"session store `URL`: memory:, sqlite:PATH, redis://HOST:6379/DB, postgres://..., mysql://..., memcached://HOST")
	fs.StringVar(&c.rateLimitStore, "ratelimit-store", "",
		"rate-limit backend `URL`: memory: or redis://HOST:6379/DB (default: -store when it is redis:// or rediss://, so that instances share limits; memory: otherwise)")
	fs.DurationVar(&c.idleTimeout, "idle-timeout", time.Hour, "end a session after this long without activity")
	fs.DurationVar(&c.absoluteTimeout, "absolute-timeout", 24*time.Hour, "end a session this long after sign-in, whatever the activity")
	fs.DurationVar(&c.rememberIdle, "remember-idle-timeout", 7*24*time.Hour, `-idle-timeout for a session with "keep me signed in"`)
	fs.DurationVar(&c.rememberAbs, "remember-absolute-timeout", 30*24*time.Hour, `-absolute-timeout for a session with "keep me signed in"`)
	fs.BoolVar(&c.insecureCookie, "insecure-cookie", false,
		"drop the Secure attribute of the session cookie, for plain HTTP on a host other than localhost (browsers accept Secure cookies from http://localhost and http://127.0.0.1 already)")
	fs.DurationVar(&c.recentAuth, "recent-auth", 5*time.Minute, `how recent a sign-in must be for "sign out all other devices"`)
	fs.TextVar(&c.logLevel, "log-level", slog.LevelInfo, "log `level`: debug, info, warn or error")
	fs.StringVar(&c.csrfKeyFile, "csrf-key-file", "",
		"`file` holding the key (at least 32 random bytes, e.g. head -c 32 /dev/urandom) that signs the CSRF tokens of visitors without a session; give every instance behind one address the same file (default: a key drawn at startup, good for this process only)")
	fs.StringVar(&c.clientChange, "client-change", "reauth",
		"what a signed-in session used by another browser or from another network does: log (carry on), reauth (sign the user out, keeping the cart for the browser that signed in) or destroy (end the session)")
	fs.IntVar(&c.maxSessions, "max-sessions", 5, "live sessions one user may have at once; 0 for no cap")
	fs.StringVar(&c.maxPolicy, "max-sessions-policy", "evict-oldest",
		"what a sign-in beyond -max-sessions does: evict-oldest (sign out the user's oldest session) or refuse-new (refuse the sign-in)")
	fs.Func("trusted-proxies", "`CIDR,...` of the reverse proxies in front of the app (e.g. 127.0.0.1/32,10.0.0.0/8): a request from one of them comes from the address it reports in -proxy-header; any other request from its RemoteAddr (default: trust nobody)",
		func(s string) (err error) {
			c.trustedProxies, err = parseTrustedProxies(s)
			return err
		})
	fs.StringVar(&c.proxyHeader, "proxy-header", "x-forwarded-for", "the `header` the trusted proxies report the client's address in: x-forwarded-for or forwarded (RFC 7239)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	switch {
	case c.idleTimeout <= 0 || c.absoluteTimeout <= 0 || c.rememberIdle <= 0 || c.rememberAbs <= 0:
		return nil, errors.New("-idle-timeout, -absolute-timeout and their -remember- forms must be positive")
	case c.recentAuth <= 0:
		return nil, errors.New("-recent-auth must be positive")
	}
	c.proxyHeader = strings.ToLower(c.proxyHeader)
	if !slices.Contains(proxyHeaders, c.proxyHeader) {
		return nil, fmt.Errorf("-proxy-header %q: want x-forwarded-for or forwarded", c.proxyHeader)
	}
	if c.maxSessions < 0 {
		return nil, errors.New("-max-sessions must be 0 (no cap) or more")
	}
	if _, ok := limitPolicies[c.maxPolicy]; !ok {
		return nil, fmt.Errorf("-max-sessions-policy %q: want evict-oldest or refuse-new", c.maxPolicy)
	}
	if _, ok := clientChangePolicies[c.clientChange]; !ok {
		return nil, fmt.Errorf("-client-change %q: want log, reauth or destroy", c.clientChange)
	}
	return c, nil
}

// Run starts the app and serves until ctx ends, then shuts down cleanly.
// It prints "sessiondemo listening on http://ADDR" to stdout once it
// accepts connections, and logs to stderr.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.logLevel}))

	openCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	store, err := storeurl.Open(openCtx, cfg.store)
	if err != nil {
		return err
	}
	defer func() {
		if err := store.(io.Closer).Close(); err != nil {
			log.Error("closing the store", "err", err)
		}
	}()
	backend, closeBackend, backendURL, err := openRateLimit(openCtx, cfg)
	if err != nil {
		return err
	}
	defer closeBackend()

	a, err := newApp(cfg, log, store, backend)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sessiondemo listening on http://%s\n", ln.Addr())
	log.Info("listening", "addr", ln.Addr().String(), "store", storeurl.Redact(cfg.store),
		"ratelimit_store", storeurl.Redact(backendURL), "idle_timeout", cfg.idleTimeout,
		"absolute_timeout", cfg.absoluteTimeout, "insecure_cookie", cfg.insecureCookie,
		"trusted_proxies", len(cfg.trustedProxies), "max_sessions", a.maxSessions, "client_change", cfg.clientChange)
	if scheme, _, _ := strings.Cut(strings.ToLower(cfg.store), ":"); scheme != "memory" && !strings.HasPrefix(scheme, "sqlite") {
		if backendURL == "memory:" {
			log.Warn("login rate limits are kept in this process: instances sharing the store do not share them; pass -ratelimit-store redis://HOST:6379/DB to share them")
		}
		if cfg.csrfKeyFile == "" {
			log.Warn("the CSRF tokens of visitors without a session are signed with a key of this process: another instance refuses them (a login form served by one and sent to another); pass the same -csrf-key-file to every instance")
		}
	}
	if !cfg.insecureCookie && !loopback(ln.Addr()) {
		log.Warn("the session cookie is Secure: browsers send it over HTTPS, or over plain HTTP to localhost and 127.0.0.1 only; " +
			"put TLS in front, or pass -insecure-cookie for plain-HTTP development on another host")
	}

	return httpserver.Run(ctx, ln, a.routes(), log)
}

// newApp wires the session managers, CSRF protection, rate limits and
// metrics around store.
func newApp(cfg *config, log *slog.Logger, store session.Store, backend ratelimit.Backend) (*app, error) {
	a := &app{log: log, store: store, recentAuth: cfg.recentAuth, clientChange: cfg.clientChange,
		activity: newActivityLog(time.Now), maxSessions: cfg.maxSessions,
		clients: clientAddrs{trusted: cfg.trustedProxies, forwarded: cfg.proxyHeader == "forwarded"}}
	if _, ok := store.(session.SubjectIndex); !ok && a.maxSessions > 0 {
		log.Warn("the store cannot list sessions by user: no cap on concurrent sessions", "max_sessions", a.maxSessions)
		a.maxSessions = 0
	}
	var err error
	if a.pages, err = parseTemplates(); err != nil {
		return nil, err
	}

	a.reg = prometheus.NewRegistry()
	a.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	storeName, _, _ := strings.Cut(strings.ToLower(cfg.store), ":")
	if a.metrics, err = sessionprom.New(a.reg, sessionprom.Options{StoreName: storeName}); err != nil {
		return nil, err
	}
	if err := a.metrics.WatchStore(store); err != nil {
		log.Info("no sessions_live metric", "reason", err)
	}

	// Clients that send many session IDs that open nothing may be
	// guessing: count them per address and alert (see guessing.go), but
	// never refuse anyone for it.
	if a.guessing, err = newGuessWatch(backend, log, a.reg); err != nil {
		return nil, err
	}
	a.guessing.onAlert = func(r *http.Request, _ guessAlert) {
		a.activity.record(activityEvent{Kind: actGuessing, Client: clientSummary(r)})
	}
	events := newEventLog(log, time.Now) // store IDs only, never tokens
	base := session.Config{
		IdleTimeout:               cfg.idleTimeout,
		AbsoluteTimeout:           cfg.absoluteTimeout,
		RememberMeIdleTimeout:     cfg.rememberIdle,
		RememberMeAbsoluteTimeout: cfg.rememberAbs,
		Cookie:                    session.Cookie{InsecureCookie: cfg.insecureCookie},
		Logger:                    log,
		ClientChange:              clientChangePolicies[cfg.clientChange],
		// Both managers share the cap: a user's browser and API sessions
		// count together.
		MaxSessionsPerUser: a.maxSessions,
		LimitPolicy:        limitPolicies[cfg.maxPolicy],
		OnEvent: func(ctx context.Context, e session.Event) {
			events.observe(ctx, e)
			observeEvictions(ctx, e)
			a.guessing.observe(ctx, e)
			a.activity.observe(ctx, e)
		},
	}
	web := base
	web.ClearSiteData = true // logout clears the browser's cookies for the site
	a.metrics.Instrument(&web)
	if a.web, err = session.New(store, web); err != nil {
		return nil, err
	}
	api := base
	api.Header = "Authorization"
	api.ErrorHandler = apiSessionError
	a.metrics.Instrument(&api)
	if a.api, err = session.New(store, api); err != nil {
		return nil, err
	}

	csrfOpts := csrf.Options{ErrorHandler: a.csrfRefused}
	if cfg.csrfKeyFile != "" {
		if csrfOpts.Key, err = os.ReadFile(cfg.csrfKeyFile); err != nil {
			return nil, fmt.Errorf("-csrf-key-file: %w", err)
		}
		if len(csrfOpts.Key) < csrf.MinKeyLen {
			return nil, fmt.Errorf("-csrf-key-file %s: %d bytes; want at least %d random bytes (head -c 32 /dev/urandom > %[1]s)",
				cfg.csrfKeyFile, len(csrfOpts.Key), csrf.MinKeyLen)
		}
	}
	if a.csrf, err = csrf.New(csrfOpts); err != nil {
		return nil, err
	}
	a.limits = newLoginLimits(backend, ratelimit.Options{Logger: log})
	return a, nil
}

// openRateLimit opens the rate-limit backend named by -ratelimit-store, or
// derived from -store. It returns the backend, its closer and its URL.
func openRateLimit(ctx context.Context, cfg *config) (ratelimit.Backend, func(), string, error) {
	raw := cfg.rateLimitStore
	if raw == "" {
		raw = "memory:"
		if s := strings.ToLower(cfg.store); strings.HasPrefix(s, "redis://") || strings.HasPrefix(s, "rediss://") {
			raw = cfg.store
		}
	}
	scheme, _, _ := strings.Cut(strings.ToLower(raw), ":")
	switch scheme {
	case "memory":
		if raw != "memory:" {
			return nil, nil, "", fmt.Errorf("-ratelimit-store %q: memory: takes no options", raw)
		}
		m := ratelimit.NewMemory(ratelimit.MemoryOptions{})
		return m, func() { m.Close() }, raw, nil
	case "redis", "rediss":
		opts, err := redis.ParseURL(raw)
		if err != nil {
			var ue *url.Error // it quotes the URL, password included
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return nil, nil, "", fmt.Errorf("-ratelimit-store %s: %w", storeurl.Redact(raw), err)
		}
		client := redis.NewClient(opts)
		if err := client.Ping(ctx).Err(); err != nil {
			client.Close()
			return nil, nil, "", fmt.Errorf("-ratelimit-store %s: ping: %w", storeurl.Redact(raw), err)
		}
		backend := redislimit.New(client, redislimit.Options{Prefix: "sessiondemo:ratelimit:"})
		return backend, func() { client.Close() }, raw, nil
	}
	return nil, nil, "", fmt.Errorf("-ratelimit-store %s: want memory: or redis://host:port/db", storeurl.Redact(raw))
}

// loopback reports whether the server listens on a loopback address only,
// where browsers accept the Secure cookie over plain HTTP.
func loopback(addr net.Addr) bool {
	ap, err := netip.ParseAddrPort(addr.String())
	return err == nil && ap.Addr().IsLoopback()
}
