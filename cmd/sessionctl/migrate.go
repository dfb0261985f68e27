package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/sessionkit/session/storeurl"
)

// migrateCmd creates the store (a SQLite file, the SQL schema) or brings its
// schema up to date; it is the one command that creates a store:
// sessionctl migrate. For deployments where the app runs without the
// privileges to change the schema (pgstore.Options.SkipMigrate).
type migrateCmd struct{}

func (*migrateCmd) flags(*flag.FlagSet) {}

// storeOptions lets migrate create the store, the one command that does
// (with bench --table).
func (*migrateCmd) storeOptions() storeurl.Options { return storeurl.Options{} }
func (*migrateCmd) args(args []string) error       { return noArgs("migrate", args) }

// migrator is implemented by the stores with a schema (sqlitestore, pgstore,
// mysqlstore).
type migrator interface {
	Migrate(ctx context.Context) error
}

// migrateJSON is the JSON form of migrate's result.
type migrateJSON struct {
	Schema   bool `json:"schema"`   // the store has a schema
	Migrated bool `json:"migrated"` // and it is up to date
}

func (*migrateCmd) run(ctx context.Context, e *env) error {
	m, ok := e.store.(migrator)
	if !ok {
		if e.json {
			return writeJSON(e.stdout, migrateJSON{})
		}
		_, err := fmt.Fprintln(e.stdout, "this store has no schema; nothing to migrate")
		return err
	}
	if err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if e.json {
		return writeJSON(e.stdout, migrateJSON{Schema: true, Migrated: true})
	}
	_, err := fmt.Fprintln(e.stdout, "schema is up to date")
	return err
}
