package mysqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The schema, as numbered SQL files applied in order: 001_init.sql, then any
// later ones. A file once released is never edited; a change is a new file.
// {{table}} in a file stands for Options.Table, and each statement ends with
// a semicolon at the end of a line (the driver runs one statement at a time).
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version    int
	name       string
	statements []string
}

// migrations returns the embedded migrations in order, checking that they
// are numbered 1, 2, 3 and so on.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a number and an underscore", base)
		}
		b, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, statements: splitStatements(string(b))})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: want version %d", m.name, i+1)
		}
	}
	return ms, nil
}

// splitStatements splits a migration at the semicolons that end a line,
// leaving out the parts that hold nothing but comments.
func splitStatements(file string) []string {
	var stmts []string
	for part := range strings.SplitSeq(strings.ReplaceAll(file, "\r\n", "\n")+"\n", ";\n") {
		for line := range strings.SplitSeq(part, "\n") {
			if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "--") {
				stmts = append(stmts, strings.TrimSpace(part))
				break
			}
		}
	}
	return stmts
}

// migrateLockWait is how long Migrate waits for another instance's migration
// when ctx has no deadline.
const migrateLockWait = time.Minute

// Migrate creates the table and its indexes, or brings an older schema up to
// date, and records the applied versions in Table_schema_version. It holds a
// named lock (GET_LOCK) on the database and table for the whole run, so
// concurrent calls from several app instances apply each migration once.
// MySQL commits DDL as it goes, so the statements are written to be run
// again (IF NOT EXISTS) should a migration stop half way. It is safe to call
// at every start; New calls it unless Options.SkipMigrate is set.
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.migrate(ctx); err != nil {
		return fmt.Errorf("mysqlstore: migrate: %w", err)
	}
	return nil
}

func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	// A named lock belongs to a connection: hold one for the whole run.
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var db string
	if err := conn.QueryRowContext(ctx, `SELECT COALESCE(DATABASE(), '')`).Scan(&db); err != nil {
		return err
	}
	if db == "" {
		return errors.New("no database selected (name one in the DSN)")
	}
	lock := lockName(db, s.table)
	wait := migrateLockWait
	if deadline, ok := ctx.Deadline(); ok {
		wait = time.Until(deadline)
	}
	var got sql.NullInt64
	err = conn.QueryRowContext(ctx, `SELECT GET_LOCK(?, ?)`, lock, max(int(math.Ceil(wait.Seconds())), 0)).Scan(&got)
	if err != nil {
		return fmt.Errorf("taking the migration lock: %w", err)
	}
	if got.Int64 != 1 {
		return fmt.Errorf("timed out after %v waiting for the migration lock %q", wait.Round(time.Second), lock)
	}
	defer func() {
		var released sql.NullInt64
		err := conn.QueryRowContext(context.WithoutCancel(ctx), `SELECT RELEASE_LOCK(?)`, lock).Scan(&released)
		if err != nil {
			// The server releases the lock when the connection ends: end it
			// rather than return it to the pool still holding the lock.
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()

	versions := "`" + s.table + "_schema_version`"
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+versions+` (
		version INT NOT NULL PRIMARY KEY,
		applied TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
	) ENGINE=InnoDB`); err != nil {
		return err
	}
	var current int
	if err := conn.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM `+versions).Scan(&current); err != nil {
		return err
	}
	for _, m := range ms {
		if m.version <= current {
			continue
		}
		for _, stmt := range m.statements {
			if _, err := conn.ExecContext(ctx, strings.ReplaceAll(stmt, "{{table}}", s.table)); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
		}
		if _, err := conn.ExecContext(ctx, `INSERT INTO `+versions+` (version) VALUES (?)`, m.version); err != nil {
			return err
		}
	}
	return nil
}

// lockName is the name of the lock on a table's migrations: a hash, since
// lock names are limited to 64 characters.
func lockName(db, table string) string {
	sum := sha256.Sum256([]byte(db + "." + table))
	return "sessionkit/mysqlstore/" + hex.EncodeToString(sum[:20])
}
