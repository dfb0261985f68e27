// Package pgstore keeps sessions in PostgreSQL, through a pgx v5 pool: the
// store for apps that run PostgreSQL already and want sessions that outlive a
// restart and are shared by every app instance.
//
// Each session is one row of a table (default "sessions"). The record is kept
// whole in a bytea column (session.EncodeRecord); the columns beside it hold
// what queries filter, order and expire on: version, subject, created and
// expires, plus last_active and idle_deadline, which Touch moves without
// rewriting the record or changing its version and which Load merges back.
//
// Commit is a compare-and-swap in one statement: an UPDATE that matches the
// expected version of a live row, or, to create a session, an INSERT whose
// ON CONFLICT clause takes over an expired row and leaves a live one alone.
// An expired row therefore counts as absent everywhere, before any sweep.
//
// New creates or migrates the schema from versioned SQL embedded in the
// package, under a transaction-level advisory lock, so app instances may
// start at the same time. Expired rows are deleted in the background every
// five minutes, 1000 rows per statement, with FOR UPDATE SKIP LOCKED so that
// many instances can sweep the same table at once. See Options for the
// defaults and the README for the schema and the permissions the store needs.
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/session"
)

// Options configures a Store. The zero value is ready to use.
type Options struct {
	// Table names the sessions table. Default "sessions". It must be a plain
	// identifier (ASCII letters, digits and underscores, not starting with a
	// digit, at most 48 bytes); it is always quoted, so it is case-sensitive.
	// The store also creates Table_schema_version and the indexes
	// Table_expires_idx and Table_subject_idx. The table lives in the first
	// schema of the connection's search_path.
	Table string

	// Now is the clock that decides expiry, for tests. Default time.Now.
	Now func() time.Time

	// SweepInterval is how often expired rows are deleted in the background.
	// Default five minutes. Expired sessions never load in the meantime.
	SweepInterval time.Duration
	// SweepBatch is how many rows one DELETE statement removes, which bounds
	// how long a sweep holds row locks. Default 1000.
	SweepBatch int
	// DisableSweeper turns the background sweep off, for apps that call
	// DeleteExpired on their own schedule (a cron job, one leader instance).
	DisableSweeper bool

	// SkipMigrate stops New from creating or migrating the schema, for
	// deployments that run Migrate (or sessionctl) as a separate step with
	// more privileges than the app.
	SkipMigrate bool

	// Logger receives the errors of background sweeps, which have no caller
	// to return them to. Default slog.Default().
	Logger *slog.Logger
}

// Store is a PostgreSQL session store. It is safe for concurrent use. Close
// stops its background sweeper; the pool belongs to the caller, who closes
// it after the store.
type Store struct {
	pool  *pgxpool.Pool
	table string // validated, unquoted
	now   func() time.Time
	batch int
	log   *slog.Logger
	q     queries

	cancel    context.CancelFunc // stops the sweeper; nil when there is none
	done      chan struct{}      // closed when the sweeper has stopped
	closeOnce sync.Once
}

var (
	_ session.Store        = (*Store)(nil)
	_ session.Toucher      = (*Store)(nil)
	_ session.SubjectIndex = (*Store)(nil)
	_ session.Iterator     = (*Store)(nil)
	_ session.Counter      = (*Store)(nil)
	_ session.Sweeper      = (*Store)(nil)
)

// Defaults of Options.
const (
	DefaultTable         = "sessions"
	DefaultSweepInterval = 5 * time.Minute
	DefaultSweepBatch    = 1000
)

// rangePage is how many rows Range reads per query.
const rangePage = 500

// New returns a Store on the table named by opts.Table, after creating or
// migrating its schema (unless opts.SkipMigrate), and starts its background
// sweeper (unless opts.DisableSweeper). ctx bounds the migration only.
func New(ctx context.Context, pool *pgxpool.Pool, opts Options) (*Store, error) {
	if pool == nil {
		return nil, errors.New("pgstore: nil pool")
	}
	table := opts.Table
	if table == "" {
		table = DefaultTable
	}
	if !validTable(table) {
		return nil, fmt.Errorf("pgstore: invalid table name %q: want letters, digits and underscores, at most %d bytes", table, maxTableLen)
	}
	s := &Store{pool: pool, table: table, now: opts.Now, batch: opts.SweepBatch, log: opts.Logger, q: buildQueries(table)}
	if s.now == nil {
		s.now = time.Now
	}
	if s.batch <= 0 {
		s.batch = DefaultSweepBatch
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if !opts.SkipMigrate {
		if err := s.Migrate(ctx); err != nil {
			return nil, err
		}
	}
	if !opts.DisableSweeper {
		interval := opts.SweepInterval
		if interval <= 0 {
			interval = DefaultSweepInterval
		}
		sweepCtx, cancel := context.WithCancel(context.Background())
		s.cancel, s.done = cancel, make(chan struct{})
		go s.sweep(sweepCtx, interval)
	}
	return s, nil
}

// Close stops the background sweeper and waits for a sweep in progress to
// end. It does not close the pool, and the store keeps answering afterwards.
// Close is idempotent and always returns nil.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.cancel != nil {
			s.cancel()
			<-s.done
		}
	})
	return nil
}

// queries are the store's statements, built once for its table.
type queries struct {
	load, create, update, touch, delete          string
	listSubject, deleteSubject, rangePage, count string
	sweep                                        string
}

func buildQueries(table string) queries {
	t := `"` + table + `"`
	const cols = `id, version, subject, created, expires, last_active, idle_deadline, absolute_deadline, tombstone, data`
	const read = `id, data, last_active, idle_deadline`
	return queries{
		// An expired row still loads until it is swept, to tell expiry apart
		// from an unknown ID; the last column says which it is.
		load: `SELECT ` + read + `, expires > $2 FROM ` + t + ` WHERE id = $1`,
		// An existing row is taken over only if it has expired; a live one
		// makes the statement affect no row, which is the conflict.
		create: `INSERT INTO ` + t + ` AS s (` + cols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, subject = EXCLUDED.subject,
				created = EXCLUDED.created, expires = EXCLUDED.expires, last_active = EXCLUDED.last_active,
				idle_deadline = EXCLUDED.idle_deadline, absolute_deadline = EXCLUDED.absolute_deadline,
				tombstone = EXCLUDED.tombstone, data = EXCLUDED.data
			WHERE s.expires <= $11`,
		update: `UPDATE ` + t + ` SET version = $2, subject = $3, created = $4, expires = $5, last_active = $6,
				idle_deadline = $7, absolute_deadline = $8, tombstone = $9, data = $10
			WHERE id = $1 AND version = $11 AND expires > $12`,
		// No time moves back: a request that read the clock before a newer
		// touch or commit leaves the later times. The right-hand sides read
		// the row as it was before the update.
		touch: `UPDATE ` + t + ` SET last_active = GREATEST(last_active, $2), idle_deadline = GREATEST(idle_deadline, $3),
				expires = LEAST(GREATEST(idle_deadline, $3), absolute_deadline)
			WHERE id = $1 AND expires > $4 AND NOT tombstone`,
		delete: `DELETE FROM ` + t + ` WHERE id = $1`,
		// subject <> '' lets the partial index serve generic plans too.
		listSubject: `SELECT ` + read + ` FROM ` + t + `
			WHERE subject = $1 AND subject <> '' AND expires > $2 ORDER BY created, id`,
		// Expired rows of the subject go too, but only live ones count.
		deleteSubject: `WITH d AS (DELETE FROM ` + t + ` WHERE subject = $1 AND subject <> '' RETURNING expires)
			SELECT count(*) FILTER (WHERE expires > $2) FROM d`,
		rangePage: `SELECT ` + read + ` FROM ` + t + ` WHERE id > $1 AND expires > $2 ORDER BY id LIMIT $3`,
		count:     `SELECT count(*) FROM ` + t + ` WHERE expires > $1 AND NOT tombstone`,
		// SKIP LOCKED: concurrent sweepers take disjoint batches instead of
		// queueing behind each other, and never block a commit for long.
		sweep: `DELETE FROM ` + t + ` WHERE id IN (
			SELECT id FROM ` + t + ` WHERE expires <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
	}
}

// Load implements session.Store. A row that has expired but is not swept yet
// is reported as session.ErrExpired.
func (s *Store) Load(ctx context.Context, id string) (*session.Record, error) {
	if !validID(id) {
		return nil, fmt.Errorf("pgstore: load: %w", session.ErrNotFound)
	}
	var (
		r    row
		live bool
	)
	err := s.pool.QueryRow(ctx, s.q.load, id, s.now()).Scan(&r.id, &r.data, &r.lastActive, &r.idle, &live)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, fmt.Errorf("pgstore: load: %w", session.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("pgstore: load: %w", err)
	case !live:
		return nil, fmt.Errorf("pgstore: load: %w", session.ErrExpired)
	}
	rec, err := decode(r.id, r.data, r.lastActive, r.idle)
	if err != nil {
		return nil, fmt.Errorf("pgstore: load: %w", err)
	}
	return rec, nil
}

// Commit implements session.Store.
func (s *Store) Commit(ctx context.Context, rec *session.Record, expected uint64) error {
	if !validID(rec.ID) {
		return errors.New("pgstore: commit: malformed session ID")
	}
	if rec.Version > math.MaxInt64 || expected > math.MaxInt64 {
		return errors.New("pgstore: commit: version out of range")
	}
	subject, tombstone := rec.Subject, rec.Tombstone()
	if tombstone {
		subject = "" // a tombstone is nobody's session
	}
	now := s.now()
	args := []any{rec.ID, int64(rec.Version), subject, rec.Created, rec.Expires(),
		rec.LastActive, rec.IdleDeadline, rec.AbsoluteDeadline, tombstone, session.EncodeRecord(nil, rec)}
	query := s.q.create
	if expected == 0 {
		args = append(args, now)
	} else {
		query = s.q.update
		args = append(args, int64(expected), now)
	}
	tag, err := s.pool.Exec(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("pgstore: commit: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pgstore: commit: %w", session.ErrConflict)
	}
	return nil
}

// Touch implements session.Toucher: one UPDATE of the time columns, which
// leaves the record and its version alone.
func (s *Store) Touch(ctx context.Context, id string, lastActive, idleDeadline time.Time) error {
	if !validID(id) {
		return fmt.Errorf("pgstore: touch: %w", session.ErrNotFound)
	}
	tag, err := s.pool.Exec(ctx, s.q.touch, id, lastActive, idleDeadline, s.now())
	if err != nil {
		return fmt.Errorf("pgstore: touch: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pgstore: touch: %w", session.ErrNotFound)
	}
	return nil
}

// Delete implements session.Store.
func (s *Store) Delete(ctx context.Context, id string) error {
	if !validID(id) {
		return nil // nothing can be stored under it
	}
	if _, err := s.pool.Exec(ctx, s.q.delete, id); err != nil {
		return fmt.Errorf("pgstore: delete: %w", err)
	}
	return nil
}

// collect reads and decodes the rows of a query that selects id, data,
// last_active and idle_deadline. With skipCorrupt, a record that cannot be
// decoded is logged and left out instead of failing the whole list.
func (s *Store) collect(rows pgx.Rows, skipCorrupt bool) ([]*session.Record, error) {
	rs, err := readRows(rows)
	if err != nil {
		return nil, err
	}
	return s.decodeRows(rs, skipCorrupt)
}

// row is a row as read, before decoding.
type row struct {
	id               string
	data             []byte
	lastActive, idle time.Time
}

func readRows(rows pgx.Rows) ([]row, error) {
	defer rows.Close()
	var rs []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.data, &r.lastActive, &r.idle); err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, rows.Err()
}

func (s *Store) decodeRows(rs []row, skipCorrupt bool) ([]*session.Record, error) {
	recs := make([]*session.Record, 0, len(rs))
	for _, r := range rs {
		rec, err := decode(r.id, r.data, r.lastActive, r.idle)
		if err != nil {
			if skipCorrupt && errors.Is(err, session.ErrCorrupt) {
				s.log.Warn("pgstore: skipped a corrupt record", "table", s.table, "err", err)
				continue
			}
			return nil, err
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

// decode decodes a row. Touch moves last_active and idle_deadline without
// rewriting data, so the columns win where they differ from the encoded
// times; where they do not, the encoded times keep their nanoseconds, which
// timestamptz rounds down to microseconds.
func decode(id string, data []byte, lastActive, idle time.Time) (*session.Record, error) {
	rec, err := session.DecodeRecord(id, data)
	if err != nil {
		return nil, err
	}
	if !lastActive.Equal(rec.LastActive.Truncate(time.Microsecond)) {
		rec.LastActive = lastActive.UTC()
	}
	if !idle.Equal(rec.IdleDeadline.Truncate(time.Microsecond)) {
		rec.IdleDeadline = idle.UTC()
	}
	return rec, nil
}

// validID reports whether id is a store ID: 64 lowercase hex digits. Nothing
// else is ever stored, so other strings need no round trip.
func validID(id string) bool {
	if len(id) != 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// maxTableLen leaves room, within PostgreSQL's 63-byte identifiers, for the
// suffixes of the names derived from the table name.
const maxTableLen = 48

func validTable(name string) bool {
	if name == "" || len(name) > maxTableLen || '0' <= name[0] && name[0] <= '9' {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
