package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/csrf"
	"github.com/sessionkit/session/forwardauth"
	"github.com/sessionkit/session/internal/httpserver"
	"github.com/sessionkit/session/ratelimit"
	"github.com/sessionkit/session/ratelimit/redislimit"
	"github.com/sessionkit/session/sessionprom"
	"github.com/sessionkit/session/storeurl"
)

// Run runs the sessiond command line args: a subcommand, or serve until
// ctx ends. Serving prints "sessiond listening on http://ADDR" to stdout
// once it accepts connections, and logs to stderr.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, args, stdout, stderr)
	case "check-config":
		err = checkConfig(args, stdout, stderr)
	case "hash-password":
		err = hashPassword(args, stdin, stdout, stderr)
	case "add-user":
		err = addUser(args, stdin, stdout, stderr)
	default:
		return fmt.Errorf("unknown command %q: want serve, check-config, hash-password or add-user", cmd)
	}
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// config is the serve command line, validated.
type config struct {
	addr            string
	store           string
	users           string
	trusted         []netip.Prefix
	headers         forwardauth.Headers
	cookieDomain    string
	loginURL        string
	redirectHosts   []string
	rules           []forwardauth.Rule
	defaultAccess   forwardauth.Access
	insecureCookie  bool
	idleTimeout     time.Duration
	absoluteTimeout time.Duration
	csrfKeyFile     string
	logLevel        slog.Level
}

const usage = `Usage: sessiond [serve] [flags]

sessiond answers the forward-auth checks of nginx (/auth/nginx), Traefik and
Caddy (/auth/forward) and Envoy (/auth/envoy/...), and serves the sign-in page
(/login) and sign-out (/logout). Users come from a file made with
"sessiond add-user". See "go doc github.com/sessionkit/session/cmd/sessiond"
for proxy configurations.

Flags:
`

// listFlag is a repeatable or comma-separated string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

// ruleFlag is the repeatable -rule flag.
type ruleFlag []forwardauth.Rule

func (r *ruleFlag) String() string { return fmt.Sprint([]forwardauth.Rule(*r)) }
func (r *ruleFlag) Set(s string) error {
	rule, err := parseRule(s)
	if err != nil {
		return err
	}
	*r = append(*r, rule)
	return nil
}

// parseRule parses [HOST]/PATH=ACCESS, where ACCESS is anonymous,
// authenticated, deny or group:G1,G2.
func parseRule(s string) (forwardauth.Rule, error) {
	where, access, ok := strings.Cut(s, "=")
	if !ok {
		return forwardauth.Rule{}, fmt.Errorf("rule %q: want [HOST]/PATH=ACCESS", s)
	}
	var r forwardauth.Rule
	if i := strings.IndexByte(where, '/'); i >= 0 {
		r.Host, r.Path = where[:i], where[i:]
	} else {
		r.Host = where
	}
	if groups, ok := strings.CutPrefix(access, "group:"); ok {
		r.Groups = strings.Split(groups, ",")
		return r, nil
	}
	a, err := parseAccess(access)
	r.Access = a
	return r, err
}

func parseAccess(s string) (forwardauth.Access, error) {
	for _, a := range []forwardauth.Access{forwardauth.Authenticated, forwardauth.Anonymous, forwardauth.Deny} {
		if s == a.String() {
			return a, nil
		}
	}
	return 0, fmt.Errorf("access %q: want anonymous, authenticated, deny or group:NAMES", s)
}

// parseHeaders reads a preset name or user=NAME,groups=NAME,email=NAME,session=NAME.
func parseHeaders(s string) (forwardauth.Headers, error) {
	if !strings.Contains(s, "=") {
		return forwardauth.HeadersPreset(s)
	}
	var h forwardauth.Headers
	for _, kv := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(kv, "=")
		switch strings.TrimSpace(k) {
		case "user":
			h.User = v
		case "groups":
			h.Groups = v
		case "email":
			h.Email = v
		case "session":
			h.Session = v
		default:
			return h, fmt.Errorf("-headers %q: want authelia, oauth2-proxy or user=NAME,groups=NAME,email=NAME,session=NAME", s)
		}
	}
	return h, nil
}

func parseFlags(name string, args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	var trusted, redirectHosts listFlag
	var rules ruleFlag
	headers, defaultAccess := "authelia", "authenticated"
	fs.StringVar(&c.addr, "addr", "127.0.0.1:9091", "listen `address`; port 0 picks a free port")
	fs.StringVar(&c.store, "store", "sqlite:sessiond.db",
		"session store `URL`: memory:, sqlite:PATH, redis://HOST:6379/DB, postgres://..., mysql://..., memcached://HOST")
	fs.StringVar(&c.users, "users", "users.txt", "users `file` (name:hash:groups:email lines; see sessiond add-user)")
	fs.Var(&trusted, "trusted-proxies", "`CIDRs` of the proxies allowed to ask (comma-separated or repeated; default 127.0.0.0/8,::1)")
	fs.StringVar(&headers, "headers", headers, "identity headers: `authelia` (Remote-User, ...), oauth2-proxy (X-Auth-Request-User, ...) or user=NAME,groups=NAME,email=NAME,session=NAME")
	fs.StringVar(&c.cookieDomain, "cookie-domain", "", "share the session cookie with the subdomains of this `domain` (default: a __Host- cookie for the host that serves the sign-in page)")
	fs.StringVar(&c.loginURL, "login-url", forwardauth.PathLogin, "public `URL` of the sign-in page: a path on the app's host (/_sessiond/login) or https://auth.example.com/login")
	fs.Var(&redirectHosts, "redirect-hosts", "`hosts` (or *.domain) an absolute return URL may name after sign-in (comma-separated or repeated)")
	fs.Var(&rules, "rule", "access `rule` [HOST]/PATH=anonymous|authenticated|deny|group:G1,G2 (repeatable; the first match applies)")
	fs.StringVar(&defaultAccess, "default-access", defaultAccess, "`access` where no rule matches: authenticated, anonymous or deny")
	fs.BoolVar(&c.insecureCookie, "insecure-cookie", false, "drop the Secure attribute of the cookie, for plain-HTTP development on a host other than localhost")
	fs.DurationVar(&c.idleTimeout, "idle-timeout", time.Hour, "end a session after this long without activity")
	fs.DurationVar(&c.absoluteTimeout, "absolute-timeout", 24*time.Hour, "end a session this long after sign-in")
	fs.StringVar(&c.csrfKeyFile, "csrf-key-file", "", "`file` with at least 32 random bytes signing the sign-in form's CSRF tokens; give every instance the same one (default: a key of this process)")
	fs.TextVar(&c.logLevel, "log-level", slog.LevelInfo, "log `level`: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	var err error
	if len(trusted) > 0 {
		tp, err := ratelimit.ParseTrustedProxies(trusted...)
		if err != nil {
			return nil, fmt.Errorf("-trusted-proxies: %w", err)
		}
		c.trusted = tp
	}
	if c.headers, err = parseHeaders(headers); err != nil {
		return nil, err
	}
	if c.defaultAccess, err = parseAccess(defaultAccess); err != nil {
		return nil, fmt.Errorf("-default-access: %w", err)
	}
	c.rules, c.redirectHosts = rules, redirectHosts
	if c.idleTimeout <= 0 || c.absoluteTimeout <= 0 {
		return nil, errors.New("-idle-timeout and -absolute-timeout must be positive")
	}
	return c, nil
}

// server is a configured sessiond, ready to serve.
type server struct {
	handler http.Handler
	close   func()
}

// newServer builds sessiond from cfg: users, store, rate limits, session
// manager, CSRF protection and metrics.
func newServer(ctx context.Context, cfg *config, log *slog.Logger) (*server, error) {
	users, err := forwardauth.LoadUsers(cfg.users)
	if err != nil {
		return nil, fmt.Errorf("-users: %w", err)
	}
	if users.Len() == 0 {
		log.Warn("the users file lists nobody: nobody can sign in", "file", cfg.users)
	}
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	fail := func(err error) (*server, error) {
		closeAll()
		return nil, err
	}
	openCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	store, err := storeurl.Open(openCtx, cfg.store)
	if err != nil {
		return nil, err
	}
	closers = append(closers, func() {
		if err := store.(io.Closer).Close(); err != nil {
			log.Error("closing the store", "err", err)
		}
	})

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	storeName, _, _ := strings.Cut(strings.ToLower(cfg.store), ":")
	metrics, err := sessionprom.New(reg, sessionprom.Options{StoreName: storeName})
	if err != nil {
		return fail(err)
	}
	if err := metrics.WatchStore(store); err != nil {
		log.Info("no sessions_live metric", "reason", err)
	}
	checks := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sessiond_checks_total",
		Help: "Forward-auth checks by proxy contract, outcome and reason.",
	}, []string{"contract", "outcome", "reason"})
	reg.MustRegister(checks)

	cookie := session.Cookie{InsecureCookie: cfg.insecureCookie}
	if cfg.cookieDomain != "" {
		// __Host- cookies may not carry a Domain; __Secure- ones may.
		cookie.Domain, cookie.Name = cfg.cookieDomain, "__Secure-session"
		if cfg.insecureCookie {
			cookie.Name = "session"
		}
	}
	scfg := session.Config{
		IdleTimeout:     cfg.idleTimeout,
		AbsoluteTimeout: cfg.absoluteTimeout,
		Cookie:          cookie,
		ClearSiteData:   true,
		Logger:          log,
		OnEvent:         session.LogEvents(log),
	}
	metrics.Instrument(&scfg)
	mgr, err := session.New(store, scfg)
	if err != nil {
		return fail(err)
	}

	backend, closeBackend, err := openRateLimit(openCtx, cfg.store)
	if err != nil {
		return fail(err)
	}
	closers = append(closers, closeBackend)

	trusted := ratelimit.TrustedProxies(cfg.trusted)
	if len(trusted) == 0 {
		trusted = ratelimit.MustParseTrustedProxies("127.0.0.0/8", "::1/128")
	}
	csrfOpts := csrf.Options{ClientKey: trusted.ByAddress}
	if cfg.csrfKeyFile != "" {
		if csrfOpts.Key, err = os.ReadFile(cfg.csrfKeyFile); err != nil {
			return fail(fmt.Errorf("-csrf-key-file: %w", err))
		}
		if len(csrfOpts.Key) < csrf.MinKeyLen {
			return fail(fmt.Errorf("-csrf-key-file %s: %d bytes; want at least %d random bytes", cfg.csrfKeyFile, len(csrfOpts.Key), csrf.MinKeyLen))
		}
	}
	protect, err := csrf.New(csrfOpts)
	if err != nil {
		return fail(err)
	}

	fa, err := forwardauth.New(forwardauth.Options{
		Manager:        mgr,
		Users:          users,
		Rules:          cfg.rules,
		DefaultAccess:  cfg.defaultAccess,
		TrustedProxies: trusted,
		Headers:        cfg.headers,
		LoginURL:       cfg.loginURL,
		RedirectHosts:  cfg.redirectHosts,
		CSRF:           protect,
		RateLimit:      backend,
		OnDecision: func(contract string, d forwardauth.Decision) {
			checks.WithLabelValues(contract, d.Outcome.String(), d.Reason).Inc()
		},
		Logger: log,
	})
	if err != nil {
		return fail(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", healthz(store, log))
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("/", fa)
	return &server{handler: routeExact(mux, fa), close: closeAll}, nil
}

// routeExact sends the Envoy check paths straight to fa: ServeMux would
// clean their dot segments and answer with a redirect instead of a
// decision.
func routeExact(mux *http.ServeMux, fa http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.RequestURI, forwardauth.PathEnvoy+"/") {
			fa.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// openRateLimit keeps login attempt counts in Redis when the sessions are
// there, so every instance shares them, and in this process otherwise.
func openRateLimit(ctx context.Context, storeURL string) (ratelimit.Backend, func(), error) {
	s := strings.ToLower(storeURL)
	if strings.HasPrefix(s, "redis://") || strings.HasPrefix(s, "rediss://") {
		opts, err := redis.ParseURL(storeURL)
		if err != nil {
			return nil, nil, fmt.Errorf("rate limits on %s: %w", storeurl.Redact(storeURL), errors.Unwrap(err))
		}
		client := redis.NewClient(opts)
		if err := client.Ping(ctx).Err(); err != nil {
			client.Close()
			return nil, nil, fmt.Errorf("rate limits on %s: %w", storeurl.Redact(storeURL), err)
		}
		return redislimit.New(client, redislimit.Options{Prefix: "sessiond:ratelimit:"}), func() { client.Close() }, nil
	}
	m := ratelimit.NewMemory(ratelimit.MemoryOptions{})
	return m, func() { m.Close() }, nil
}

// checkConfig is "sessiond check-config": the serve flags and the users
// file are validated and the store opened, then it exits.
func checkConfig(args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags("sessiond check-config", args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := newServer(context.Background(), cfg, log)
	if err != nil {
		return err
	}
	srv.close()
	fmt.Fprintln(stdout, "configuration ok")
	return nil
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags("sessiond", args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.logLevel}))
	srv, err := newServer(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer srv.close()
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sessiond listening on http://%s\n", ln.Addr())
	log.Info("listening", "addr", ln.Addr().String(), "store", storeurl.Redact(cfg.store), "users", cfg.users,
		"login_url", cfg.loginURL, "rules", len(cfg.rules))
	return httpserver.Run(ctx, ln, srv.handler, log)
}

// healthz answers 200 when the store answers: a random ID must come back
// ErrNotFound.
func healthz(store session.Store, log *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		var b [32]byte
		rand.Read(b[:])
		_, err := store.Load(ctx, fmt.Sprintf("%x", b))
		w.Header().Set("Cache-Control", "no-store")
		if !errors.Is(err, session.ErrNotFound) {
			log.ErrorContext(ctx, "health check failed", "err", err)
			http.Error(w, "store unavailable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	}
}
