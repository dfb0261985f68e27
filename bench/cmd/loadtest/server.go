package main

// The server side: every stack (library + store) on its own listener on
// 127.0.0.1, serving the same endpoints. It runs in a child process, so that
// the load generator's own work (and garbage) does not run in the servers'
// runtime.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/alexedwards/scs/postgresstore"
	scsredis "github.com/alexedwards/scs/redisstore"
	"github.com/alexedwards/scs/v2"
	"github.com/boj/redistore"
	redigo "github.com/gomodule/redigo/redis"
	"github.com/gorilla/sessions"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	goredis "github.com/redis/go-redis/v9"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/pgstore"
	"github.com/sessionkit/session/redisstore"
)

// Endpoints, the same on every stack:
//
//	POST /login      a visitor logs in: a new session, renewed ID, holding "user"
//	GET  /read       read "user" from the session; the body is its value
//	POST /modify     increment "n"; the body is the new value
//	GET  /untouched  a handler that does not use the session
//	GET  /count      read "n" (the lost-update check)
//	GET  /stats      this stack's store calls so far (JSON), counted by the client library
//
// A handler that meets an error answers 500; the load generator counts it.

// counters count a stack's store traffic as its client library sends it.
type counters struct {
	cmds  atomic.Int64 // Redis commands or SQL statements
	trips atomic.Int64 // network round trips (a pipeline, a MULTI/EXEC batch or one statement is one)
}

type stats struct {
	Cmds  int64 `json:"cmds"`
	Trips int64 `json:"trips"`
}

func (c *counters) snapshot() stats { return stats{c.cmds.Load(), c.trips.Load()} }

type handlers struct {
	login, read, modify, untouched, count http.HandlerFunc
	wrap                                  func(http.Handler) http.Handler
}

func (h handlers) mux(c *counters) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", h.login)
	mux.HandleFunc("GET /read", h.read)
	mux.HandleFunc("POST /modify", h.modify)
	mux.HandleFunc("GET /untouched", h.untouched)
	mux.HandleFunc("GET /count", h.count)
	var root http.Handler = mux
	if h.wrap != nil {
		root = h.wrap(mux)
	}
	// /stats is outside the session middleware.
	outer := http.NewServeMux()
	outer.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(c.snapshot())
	})
	outer.Handle("/", root)
	return outer
}

func untouched(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }

func fail(w http.ResponseWriter, err error) {
	http.Error(w, err.Error(), http.StatusInternalServerError)
}

func bareHandlers() handlers {
	ok := func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }
	return handlers{login: ok, read: func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "alice") },
		modify: func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "1") }, untouched: untouched, count: ok}
}

var loginSeq atomic.Uint64

// nextUser returns the user of a login: 1000 users log in in turn.
func nextUser() string { return "user" + strconv.FormatUint(loginSeq.Add(1)%1000, 10) }

func sessionkitHandlers(store session.Store) (handlers, error) {
	m, err := session.New(store, session.Config{})
	if err != nil {
		return handlers{}, err
	}
	return handlers{
		wrap: m.Handler,
		login: func(w http.ResponseWriter, r *http.Request) {
			user := nextUser()
			if err := session.Login(r.Context(), user); err != nil {
				fail(w, err)
				return
			}
			if err := session.Put(r.Context(), "user", user); err != nil {
				fail(w, err)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		},
		read: func(w http.ResponseWriter, r *http.Request) {
			u, err := session.Get[string](r.Context(), "user")
			if err != nil {
				fail(w, err)
				return
			}
			io.WriteString(w, u)
		},
		modify: func(w http.ResponseWriter, r *http.Request) {
			n, err := session.Update(r.Context(), "n", func(n int) (int, error) { return n + 1, nil })
			if err != nil {
				fail(w, err)
				return
			}
			io.WriteString(w, strconv.Itoa(n))
		},
		untouched: untouched,
		count: func(w http.ResponseWriter, r *http.Request) {
			n, err := session.Get[int](r.Context(), "n")
			if err != nil {
				fail(w, err)
				return
			}
			io.WriteString(w, strconv.Itoa(n))
		},
	}, nil
}

func scsHandlers(store scs.Store) handlers {
	sm := scs.New()
	sm.Store = store
	sm.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) { fail(w, err) }
	return handlers{
		wrap: sm.LoadAndSave,
		login: func(w http.ResponseWriter, r *http.Request) {
			user := nextUser()
			if err := sm.RenewToken(r.Context()); err != nil {
				fail(w, err)
				return
			}
			sm.Put(r.Context(), "user", user)
			w.WriteHeader(http.StatusNoContent)
		},
		read: func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, sm.GetString(r.Context(), "user"))
		},
		modify: func(w http.ResponseWriter, r *http.Request) {
			n := sm.GetInt(r.Context(), "n") + 1
			sm.Put(r.Context(), "n", n)
			io.WriteString(w, strconv.Itoa(n))
		},
		untouched: untouched,
		count: func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, strconv.Itoa(sm.GetInt(r.Context(), "n")))
		},
	}
}

func gorillaHandlers(store sessions.Store) handlers {
	const name = "session"
	return handlers{
		login: func(w http.ResponseWriter, r *http.Request) {
			sess, err := store.Get(r, name)
			if err != nil {
				fail(w, err)
				return
			}
			sess.Values["user"] = nextUser()
			if err := sess.Save(r, w); err != nil {
				fail(w, err)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		},
		read: func(w http.ResponseWriter, r *http.Request) {
			sess, err := store.Get(r, name)
			if err != nil {
				fail(w, err)
				return
			}
			u, _ := sess.Values["user"].(string)
			io.WriteString(w, u)
		},
		modify: func(w http.ResponseWriter, r *http.Request) {
			sess, err := store.Get(r, name)
			if err != nil {
				fail(w, err)
				return
			}
			n, _ := sess.Values["n"].(int)
			n++
			sess.Values["n"] = n
			if err := sess.Save(r, w); err != nil {
				fail(w, err)
				return
			}
			io.WriteString(w, strconv.Itoa(n))
		},
		untouched: untouched,
		count: func(w http.ResponseWriter, r *http.Request) {
			sess, err := store.Get(r, name)
			if err != nil {
				fail(w, err)
				return
			}
			n, _ := sess.Values["n"].(int)
			io.WriteString(w, strconv.Itoa(n))
		},
	}
}

// Cookie keys of the gorilla store: authentication and encryption.
var (
	gorillaHashKey  = []byte("0123456789abcdef0123456789abcdef")
	gorillaBlockKey = []byte("fedcba9876543210fedcba9876543210")
)

// redisHook counts the commands and round trips of a go-redis client.
type redisHook struct{ c *counters }

func (h redisHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (h redisHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		h.c.cmds.Add(1)
		h.c.trips.Add(1)
		return next(ctx, cmd)
	}
}
func (h redisHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		h.c.cmds.Add(int64(len(cmds)))
		h.c.trips.Add(1)
		return next(ctx, cmds)
	}
}

// countingConn counts the commands and round trips of a redigo connection:
// Send queues a command, Do sends the queue and waits (Do("") only flushes).
type countingConn struct {
	redigo.Conn
	c       *counters
	pending bool
}

func (cc *countingConn) Send(cmd string, args ...any) error {
	cc.c.cmds.Add(1)
	cc.pending = true
	return cc.Conn.Send(cmd, args...)
}

func (cc *countingConn) Do(cmd string, args ...any) (any, error) {
	if cmd != "" {
		cc.c.cmds.Add(1)
	}
	if cmd != "" || cc.pending {
		cc.c.trips.Add(1)
	}
	cc.pending = false
	return cc.Conn.Do(cmd, args...)
}

// redigoPool is the pool both redigo-based stores (scs's and the gorilla
// one) get: enough idle connections for the load, no PING on borrow.
func redigoPool(addr string, db int, c *counters) *redigo.Pool {
	return &redigo.Pool{
		MaxIdle:     64,
		IdleTimeout: 240 * time.Second,
		Dial: func() (redigo.Conn, error) {
			conn, err := redigo.Dial("tcp", addr, redigo.DialDatabase(db))
			if err != nil {
				return nil, err
			}
			return &countingConn{Conn: conn, c: c}, nil
		},
	}
}

// pgTracer counts the statements a pgx connection runs (BEGIN and COMMIT
// included).
type pgTracer struct{ c *counters }

func (t pgTracer) TraceQueryStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	t.c.cmds.Add(1)
	t.c.trips.Add(1)
	return ctx
}
func (t pgTracer) TraceQueryEnd(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryEndData) {}

// pgConns is the size of each PostgreSQL pool (the server allows 100
// connections, shared with other users).
const pgConns = 16

// scsPGSchema is scs postgresstore's table, from its README.
const scsPGSchema = `
CREATE TABLE IF NOT EXISTS sessions_scs (token TEXT PRIMARY KEY, data BYTEA NOT NULL, expiry TIMESTAMPTZ NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_scs_expiry_idx ON sessions_scs (expiry);`

type stackInfo struct {
	Name string `json:"name"`
	Addr string `json:"addr"`
}

// serve builds the stacks, prints their addresses as one JSON line, and
// serves until its standard input closes.
func serve(cfg config) error {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	log.SetOutput(os.Stderr)
	ctx := context.Background()
	type stack struct {
		name string
		h    handlers
		c    *counters
	}
	var stacks []stack
	add := func(name string, c *counters, h handlers) { stacks = append(stacks, stack{name, h, c}) }

	add("bare", &counters{}, bareHandlers())

	if cfg.redis != "" {
		// sessionkit: go-redis, pool as large as the redigo ones get.
		c := &counters{}
		client := goredis.NewClient(&goredis.Options{Addr: cfg.redis, DB: cfg.redisDB, PoolSize: 64, ContextTimeoutEnabled: true})
		client.AddHook(redisHook{c})
		h, err := sessionkitHandlers(redisstore.New(client, redisstore.Options{}))
		if err != nil {
			return err
		}
		add("sessionkit+redis", c, h)

		c = &counters{}
		add("scs+redis", c, scsHandlers(scsredis.New(redigoPool(cfg.redis, cfg.redisDB, c))))

		c = &counters{}
		rs, err := redistore.NewRediStoreWithPool(redigoPool(cfg.redis, cfg.redisDB, c), gorillaHashKey, gorillaBlockKey)
		if err != nil {
			return fmt.Errorf("gorilla redistore: %w", err)
		}
		add("gorilla+redis", c, gorillaHandlers(rs))
	}

	if cfg.postgres != "" {
		c := &counters{}
		pcfg, err := pgxpool.ParseConfig(cfg.postgres)
		if err != nil {
			return err
		}
		pcfg.MaxConns = pgConns
		pcfg.ConnConfig.Tracer = pgTracer{c}
		pool, err := pgxpool.NewWithConfig(ctx, pcfg)
		if err != nil {
			return err
		}
		store, err := pgstore.New(ctx, pool, pgstore.Options{})
		if err != nil {
			return fmt.Errorf("pgstore: %w", err)
		}
		h, err := sessionkitHandlers(store)
		if err != nil {
			return err
		}
		add("sessionkit+postgres", c, h)

		c = &counters{}
		ccfg, err := pgx.ParseConfig(cfg.postgres)
		if err != nil {
			return err
		}
		ccfg.Tracer = pgTracer{c}
		db := stdlib.OpenDB(*ccfg)
		db.SetMaxOpenConns(pgConns)
		db.SetMaxIdleConns(pgConns)
		if _, err := db.ExecContext(ctx, scsPGSchema); err != nil {
			return fmt.Errorf("scs postgres schema: %w", err)
		}
		add("scs+postgres", c, scsHandlers(postgresstore.NewWithConfig(db, postgresstore.Config{
			CleanUpInterval: 5 * time.Minute, TableName: "sessions_scs"})))
	}

	var infos []stackInfo
	for _, s := range stacks {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: s.h.mux(s.c), ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		infos = append(infos, stackInfo{s.name, ln.Addr().String()})
	}
	if err := json.NewEncoder(os.Stdout).Encode(infos); err != nil {
		return err
	}
	// The parent closes our standard input when it is done (or dies).
	io.Copy(io.Discard, bufio.NewReader(os.Stdin))
	return nil
}
