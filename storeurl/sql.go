package storeurl

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sessionkit/session"
	"github.com/sessionkit/session/mysqlstore"
	"github.com/sessionkit/session/pgstore"
)

// pgStore is a pgstore.Store that owns its pool.
type pgStore struct {
	*pgstore.Store
	own *resources
}

// Close stops the store's sweeper, then closes the pool Open created.
func (s *pgStore) Close() error { return s.own.close(s.Store) }

// Unwrap returns the pgstore.Store.
func (s *pgStore) Unwrap() session.Store { return s.Store }

func openPostgres(ctx context.Context, raw string, o Options) (session.Store, error) {
	cfg, err := pgxpool.ParseConfig(raw) // its errors hide the password
	if err != nil {
		return nil, unquote(err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("ping: %w", err)
	}
	if o.Prefix != "" {
		pool.Close()
		return nil, errors.New("postgres has no key prefix (use a table)")
	}
	if o.Existing {
		table := cmp.Or(o.Table, pgstore.DefaultTable)
		var exists bool
		// to_regclass looks the table up in the search_path, as pgstore does.
		if err := pool.QueryRow(ctx, `SELECT to_regclass(quote_ident($1)) IS NOT NULL`, table).Scan(&exists); err != nil {
			pool.Close()
			return nil, err
		}
		if !exists {
			pool.Close()
			return nil, fmt.Errorf("%w: no table %q in the search_path", ErrNotExist, table)
		}
	}
	st, err := pgstore.New(ctx, pool, pgstore.Options{Table: o.Table})
	if err != nil {
		pool.Close()
		return nil, err
	}
	return &pgStore{Store: st, own: &resources{closers: []func() error{func() error { pool.Close(); return nil }}}}, nil
}

// mysqlStore is a mysqlstore.Store that owns its *sql.DB.
type mysqlStore struct {
	*mysqlstore.Store
	own *resources
}

// Close stops the store's sweeper, then closes the database Open created.
func (s *mysqlStore) Close() error { return s.own.close(s.Store) }

// Unwrap returns the mysqlstore.Store.
func (s *mysqlStore) Unwrap() session.Store { return s.Store }

// mysqlConfig converts mysql://user:password@host:port/db?params into a
// go-sql-driver/mysql configuration.
func mysqlConfig(raw string) (*mysql.Config, error) {
	u, err := parseHosts(raw)
	if err != nil {
		return nil, err
	}
	if len(u.hosts) > 1 {
		return nil, errors.New("one host only")
	}
	// The query goes to the driver as it is, minus socket: re-encoding it
	// could change values that the driver does not unescape.
	var params []string
	for p := range strings.SplitSeq(u.rawQuery, "&") {
		if k, _, _ := strings.Cut(p, "="); p != "" && k != "socket" {
			params = append(params, p)
		}
	}
	var addr string
	switch socket := u.query.Get("socket"); {
	case socket != "" && len(u.hosts) > 0:
		return nil, errors.New("a host and a socket: name one")
	case socket != "":
		addr = "unix(" + socket + ")"
	default:
		host := "127.0.0.1"
		if len(u.hosts) > 0 {
			host = u.hosts[0]
		}
		if host, err = withPort(host, "3306"); err != nil {
			return nil, err
		}
		addr = "tcp(" + host + ")"
	}
	db := strings.TrimPrefix(u.path, "/")
	if strings.Contains(db, "/") {
		return nil, fmt.Errorf("invalid database name %q", db)
	}
	dsn := addr + "/" + url.PathEscape(db)
	if len(params) > 0 {
		dsn += "?" + strings.Join(params, "&")
	}
	// No credentials in dsn, so that the driver's errors cannot show them.
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if u.user != nil {
		cfg.User = u.user.Username()
		cfg.Passwd, _ = u.user.Password()
	}
	if !u.query.Has("interpolateParams") {
		cfg.InterpolateParams = true
	}
	return cfg, nil
}

func openMySQL(ctx context.Context, raw string, o Options) (session.Store, error) {
	cfg, err := mysqlConfig(raw)
	if err != nil {
		return nil, err
	}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(connector)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("ping: %w", err)
	}
	if o.Prefix != "" {
		db.Close()
		return nil, errors.New("mysql has no key prefix (use a table)")
	}
	if o.Existing {
		table := cmp.Or(o.Table, mysqlstore.DefaultTable)
		var n int
		err := db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?`, table).Scan(&n)
		if err != nil {
			db.Close()
			return nil, err
		}
		if n == 0 {
			db.Close()
			return nil, fmt.Errorf("%w: no table %q in database %q", ErrNotExist, table, cfg.DBName)
		}
	}
	st, err := mysqlstore.New(ctx, db, mysqlstore.Options{Table: o.Table})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &mysqlStore{Store: st, own: &resources{closers: []func() error{db.Close}}}, nil
}
