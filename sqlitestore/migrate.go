package sqlitestore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// The schema is a series of migrations, migrations/NNN_name.sql, applied in
// order; the schema_version table records the ones applied.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	files, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".sql")
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must be NNN_description.sql", f)
		}
		b, err := migrationFS.ReadFile(f)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s have the same version", ms[i-1].name, ms[i].name)
		}
	}
	return ms, nil
}

// Migrate applies the schema migrations that the database lacks, each in its
// own transaction. Open and New call it; it is exported for sessionctl and
// for deployments that migrate before starting the app. It is safe to call
// again, and from several processes at once: a migration is applied once.
//
// Migrate refuses a database whose schema is newer than this version of the
// package knows, so that an old binary never writes to a schema it does not
// understand.
func (s *Store) Migrate(ctx context.Context) error {
	if err := migrate(ctx, s.w, s.now().UnixNano()); err != nil {
		return fmt.Errorf("sqlitestore: migrate: %w", err)
	}
	return nil
}

func migrate(ctx context.Context, db *sql.DB, now int64) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `
		CREATE TABLE IF NOT EXISTS schema_version (
			version INTEGER NOT NULL PRIMARY KEY,
			name    TEXT    NOT NULL,
			applied INTEGER NOT NULL -- Unix ns
		)`); err != nil {
		return err
	}
	var newest sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT max(version) FROM schema_version`).Scan(&newest); err != nil {
		return err
	}
	if known := ms[len(ms)-1].version; newest.Int64 > int64(known) {
		return fmt.Errorf("database schema version %d is newer than this sqlitestore knows (%d): upgrade the program", newest.Int64, known)
	}
	for _, m := range ms {
		if m.version <= int(newest.Int64) {
			continue
		}
		if err := apply(ctx, db, m, now); err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
	}
	return nil
}

// apply runs one migration unless it has been applied. It claims the
// migration first, with a write that takes the database's write lock, so a
// process that migrates at the same time waits and then finds it applied.
func apply(ctx context.Context, db *sql.DB, m migration, now int64) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, tx.Rollback())
		}
	}()
	res, err := tx.ExecContext(ctx,
		`INSERT INTO schema_version (version, name, applied) VALUES (?, ?, ?) ON CONFLICT (version) DO NOTHING`,
		m.version, m.name, now)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return tx.Rollback() // another process applied it
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	return tx.Commit()
}
