package storeurl

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// Options changes what OpenWith does. The zero value is what Open does: it
// creates a missing SQLite file and migrates the schema, and keeps each
// store's default key prefix and table.
type Options struct {
	// Existing makes OpenWith open only a store created before, and create
	// nothing: a SQLite file that does not exist, or a SQLite, PostgreSQL or
	// MySQL database without the sessions table, is an error wrapping
	// ErrNotExist. For admin tools such as sessionctl, where a typo in a URL
	// must fail rather than show an empty store. Default false.
	Existing bool

	// Prefix, if set, is the key prefix of a Redis or memcached store
	// (redisstore.Options.Prefix, memcachedstore.Options.Prefix), in place
	// of the default and of memcached's prefix option. Other stores refuse
	// it. Default "": the store's default.
	Prefix string

	// Table, if set, names the table of a PostgreSQL or MySQL store
	// (pgstore.Options.Table, mysqlstore.Options.Table). Other stores
	// refuse it. Default "": "sessions".
	Table string
}

// ErrNotExist is wrapped by the errors of OpenWith with Options.Existing for
// a store that was never created.
var ErrNotExist = errors.New("storeurl: store does not exist")

// noNamespace refuses Options.Prefix and Options.Table for a store without
// either.
func (o Options) noNamespace(store string) error {
	switch {
	case o.Prefix != "":
		return fmt.Errorf("%s has no key prefix", store)
	case o.Table != "":
		return fmt.Errorf("%s has no table name to choose", store)
	}
	return nil
}

// sqliteExists checks, for Options.Existing, that path is a SQLite database
// holding the sessions table, without creating either.
func sqliteExists(ctx context.Context, path string) error {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: no database file %s", ErrNotExist, path)
	} else if err != nil {
		return err
	}
	db, err := openSQLiteReadOnly(path)
	if err != nil {
		return err
	}
	defer db.Close()
	var n int
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'sessions'`).Scan(&n)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: %s has no sessions table", ErrNotExist, path)
	}
	return nil
}
