package storeurl

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"runtime"
	"strings"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
	"github.com/sessionkit/session/sqlitestore"
)

// memoryOptions parses memory: and memory://?sweep_interval=1m.
func memoryOptions(raw string) (memstore.Options, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return memstore.Options{}, unquote(err)
	}
	if u.Host != "" || u.User != nil || strings.Trim(u.Path+u.Opaque, "/") != "" {
		return memstore.Options{}, errors.New("memory: takes no host or path")
	}
	o := newOptions(u.Query())
	opts := memstore.Options{SweepInterval: o.duration("sweep_interval")}
	return opts, o.done()
}

func openMemory(raw string, o Options) (session.Store, error) {
	opts, err := memoryOptions(raw)
	if err != nil {
		return nil, err
	}
	if err := o.noNamespace("memory:"); err != nil {
		return nil, err
	}
	// Existing: a memory store is never created by accident; it is new in
	// every process, and empty.
	return memstore.New(opts), nil
}

// sqliteConfig parses sqlite:path, sqlite:///abs/path and sqlite://rel/path
// into a file path and options.
func sqliteConfig(raw string) (string, sqlitestore.Options, error) {
	_, rest, _ := strings.Cut(raw, ":")
	rest, rawQuery, _ := strings.Cut(rest, "?")
	rest, _, _ = strings.Cut(rest, "#")
	if after, ok := strings.CutPrefix(rest, "//"); ok {
		rest = after // "sqlite://rel/path" is relative, "sqlite:///abs/path" absolute
		if first, _, _ := strings.Cut(rest, "/"); strings.Contains(first, "@") {
			return "", sqlitestore.Options{}, errors.New("a file takes no user or password")
		}
	}
	path, err := url.PathUnescape(rest)
	if err != nil {
		return "", sqlitestore.Options{}, errors.New("invalid percent-encoding in the path")
	}
	if runtime.GOOS == "windows" && len(path) >= 3 && path[0] == '/' && path[2] == ':' {
		path = path[1:] // sqlite:///C:/data/sessions.db
	}
	switch {
	case path == "":
		return "", sqlitestore.Options{}, errors.New("no database path (want sqlite:///abs/path.db or sqlite:relative/path.db)")
	case path == ":memory:" || strings.HasPrefix(path, "file:"):
		return "", sqlitestore.Options{}, errors.New("want a file path (for sessions in memory, use memory:)")
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", sqlitestore.Options{}, errors.New("invalid query")
	}
	o := newOptions(q)
	opts := sqlitestore.Options{
		SweepInterval: o.duration("sweep_interval"),
		SweepBatch:    o.int("sweep_batch"),
	}
	return path, opts, o.done()
}

func openSQLite(ctx context.Context, raw string, o Options) (session.Store, error) {
	path, opts, err := sqliteConfig(raw)
	if err != nil {
		return nil, err
	}
	if err := o.noNamespace("sqlite (use another file)"); err != nil {
		return nil, err
	}
	if o.Existing {
		if err := sqliteExists(ctx, path); err != nil {
			return nil, err
		}
	}
	s, err := sqlitestore.Open(ctx, path, opts)
	if err != nil {
		return nil, err
	}
	return s, nil // its Close closes the database Open opened
}

// openSQLiteReadOnly opens the existing database at path read-only: it
// neither creates the file nor switches it to WAL mode.
func openSQLiteReadOnly(path string) (*sql.DB, error) {
	dsn, _, _ := strings.Cut(sqlitestore.DSN(path), "?")
	return sql.Open("sqlite", dsn+"?mode=ro")
}
