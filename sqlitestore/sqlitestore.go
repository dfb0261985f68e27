// Package sqlitestore is a session store in an SQLite database file: the
// embedded default for apps that run on one machine. Sessions survive a
// restart, and nothing has to be installed or run beside the app. It uses the
// pure-Go driver modernc.org/sqlite (driver name "sqlite"), so it needs no cgo.
//
// Open creates the file if needed, puts it in WAL mode and applies the
// embedded schema migrations:
//
//	store, err := sqlitestore.Open(ctx, "/var/lib/myapp/sessions.db", sqlitestore.Options{})
//	if err != nil {
//		return err
//	}
//	defer store.Close()
//
// Each session is one row; its data is the record encoded by
// session.EncodeRecord, beside columns for what the store indexes and expires
// on (see migrations/001_init.sql). Commit is a compare-and-swap on the
// version column, so concurrent requests on the same session never lose an
// update. Expired rows never load, and a background sweeper deletes them in
// batches.
//
// For sessions shared by several app instances, use a server-backed store
// (redisstore, pgstore, mysqlstore, memcachedstore) instead: an SQLite file
// must not be shared over a network file system.
package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/sessionkit/session"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Options configures a Store. The zero value is ready to use.
type Options struct {
	// Now is the clock that decides expiry, for tests. Default time.Now.
	Now func() time.Time
	// SweepInterval is how often the background sweeper deletes expired
	// sessions. Default five minutes. Expired sessions never load in the
	// meantime; they only take disk space.
	SweepInterval time.Duration
	// SweepBatch is how many rows one sweeper statement deletes at most, so
	// that a large sweep never holds the write lock for long. Default 1000.
	SweepBatch int
	// DisableSweeper turns the background sweeper off, for apps that call
	// DeleteExpired themselves (from a cron job, or sessionctl). Default
	// false: the sweeper runs, once when the store opens and then every
	// SweepInterval.
	DisableSweeper bool
	// Logger receives the errors of the background sweeper, which has no
	// caller to return them to. Default slog.Default().
	Logger *slog.Logger
}

const (
	defaultSweepInterval = 5 * time.Minute
	defaultSweepBatch    = 1000
	// busyTimeout is how long a statement waits for a lock held by another
	// connection (or another process) before it fails with SQLITE_BUSY.
	busyTimeout = 5 * time.Second
	// pageSize is how many rows Range reads per query.
	pageSize = 500
)

// Store is a session store in an SQLite database. It is safe for concurrent
// use, including by several processes that open the same file (each with its
// own Store). Close it to stop the sweeper and release the database.
type Store struct {
	w     *sql.DB // writes: one connection when Open made it, as SQLite serializes writers anyway
	r     *sql.DB // reads; the same as w for a caller-owned database
	owned bool    // Open opened w and r, and Close closes them
	now   func() time.Time
	batch int
	log   *slog.Logger

	stop      context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

var (
	_ session.Store        = (*Store)(nil)
	_ session.Toucher      = (*Store)(nil)
	_ session.SubjectIndex = (*Store)(nil)
	_ session.Iterator     = (*Store)(nil)
	_ session.Counter      = (*Store)(nil)
	_ session.Sweeper      = (*Store)(nil)
)

// DSN returns the data source name that Open uses for the database file at
// path: WAL journal mode, a busy timeout of five seconds, synchronous=NORMAL
// (durable across an app crash; a power loss may roll back the last
// commits, never corrupt the file) and transactions that take the write lock
// when they begin. Use it to open the *sql.DB passed to New:
//
//	db, err := sql.Open("sqlite", sqlitestore.DSN(path))
func DSN(path string) string {
	return "file:" + escapePath(path) + "?" + dsnParams
}

var dsnParams = strings.Join([]string{
	fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeout.Milliseconds()),
	"_pragma=journal_mode(WAL)",
	"_pragma=synchronous(NORMAL)",
	"_txlock=immediate",
}, "&")

// escapePath escapes the characters that end or escape the path of an SQLite
// URI filename.
func escapePath(path string) string {
	var b strings.Builder
	for i := 0; i < len(path); i++ {
		switch c := path[i]; c {
		case '%', '?', '#':
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Open opens the SQLite database at path, creating it (readable by its owner
// only) if it does not exist, applies the migrations and starts the sweeper.
// The directory must exist. Close closes the database.
//
// Open keeps two connection pools: one connection for writes, since SQLite
// lets one writer in at a time, and several for reads, which WAL mode lets run
// beside the writer.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file::memory:") {
		return nil, errors.New("sqlitestore: open: a file path is required (use memstore for sessions in memory)")
	}
	// Create the file before SQLite does, so that it is not readable by
	// other users; SQLite gives the -wal and -shm files the same mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open: %w", err)
	}
	f.Close()

	w, err := sql.Open("sqlite", DSN(path))
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	// The write connection goes first: it switches the file to WAL mode
	// before a reader opens it.
	if err := pingBusy(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlitestore: open: %w", err)
	}
	r, err := sql.Open("sqlite", DSN(path)+"&_query_only=1")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlitestore: open: %w", err)
	}
	readers := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	s, err := newStore(ctx, w, r, true, opts)
	if err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	return s, nil
}

// pingBusy opens the first connection, retrying while the file is busy:
// switching a new file to WAL mode needs an exclusive lock, and SQLite answers
// SQLITE_BUSY at once, without its busy handler, when another process (or
// store) opening the same file holds one.
func pingBusy(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(busyTimeout)
	for {
		err := db.PingContext(ctx)
		var coded interface{ Code() int }
		if err == nil || !errors.As(err, &coded) || coded.Code()&0xff != sqliteBusy || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(10+rand.IntN(40)) * time.Millisecond):
		}
	}
}

// Primary result codes of SQLite.
const (
	sqliteBusy   = 5  // SQLITE_BUSY: the file is locked
	sqliteTooBig = 18 // SQLITE_TOOBIG: a string or blob is longer than SQLITE_LIMIT_LENGTH
)

// tooBig makes SQLITE_TOOBIG, which retrying cannot cure, an error wrapping
// session.ErrTooLarge; other errors stay as they are.
func tooBig(err error) error {
	var coded interface{ Code() int }
	if errors.As(err, &coded) && coded.Code()&0xff == sqliteTooBig {
		return fmt.Errorf("%w: %w", session.ErrTooLarge, err)
	}
	return err
}

// New returns a Store in db, which the caller opened with the "sqlite" driver
// and keeps owning: Close stops the sweeper but leaves db open. New applies
// the migrations and starts the sweeper.
//
// Every connection of db needs a busy timeout, or concurrent writes fail with
// SQLITE_BUSY: open db with DSN, or with parameters of your own that set
// busy_timeout (and, for concurrent readers, journal_mode WAL). Most callers
// want Open instead.
func New(ctx context.Context, db *sql.DB, opts Options) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlitestore: new: nil *sql.DB")
	}
	return newStore(ctx, db, db, false, opts)
}

func newStore(ctx context.Context, w, r *sql.DB, owned bool, opts Options) (*Store, error) {
	s := &Store{w: w, r: r, owned: owned, now: opts.Now, batch: opts.SweepBatch, log: opts.Logger, done: make(chan struct{})}
	if s.now == nil {
		s.now = time.Now
	}
	if s.batch <= 0 {
		s.batch = defaultSweepBatch
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if err := s.Migrate(ctx); err != nil {
		return nil, err
	}
	sweepCtx, stop := context.WithCancel(context.Background())
	s.stop = stop
	if opts.DisableSweeper {
		close(s.done)
		return s, nil
	}
	interval := opts.SweepInterval
	if interval <= 0 {
		interval = defaultSweepInterval
	}
	go s.sweep(sweepCtx, interval)
	return s, nil
}

// Close stops the sweeper and, if Open opened the database, closes it. It is
// idempotent; the store must not be used afterwards.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.stop()
		<-s.done
		if s.owned {
			s.closeErr = errors.Join(s.w.Close(), s.r.Close())
			if s.closeErr != nil {
				s.closeErr = fmt.Errorf("sqlitestore: close: %w", s.closeErr)
			}
		}
	})
	return s.closeErr
}

func (s *Store) sweep(ctx context.Context, interval time.Duration) {
	defer close(s.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.DeleteExpired(ctx, s.now()); err != nil && ctx.Err() == nil {
			s.log.LogAttrs(ctx, slog.LevelWarn, "sqlitestore: sweeping expired sessions failed", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Load implements session.Store. A row that has expired but is not swept yet
// is reported as session.ErrExpired.
func (s *Store) Load(ctx context.Context, id string) (*session.Record, error) {
	var (
		data                     []byte
		lastActive, idleDeadline int64
		live                     bool
	)
	err := s.r.QueryRowContext(ctx,
		`SELECT data, last_active, idle_deadline, expires > ? FROM sessions WHERE id = ?`,
		unixNano(s.now()), id,
	).Scan(&data, &lastActive, &idleDeadline, &live)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("sqlitestore: load: %w", session.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("sqlitestore: load: %w", err)
	case !live:
		return nil, fmt.Errorf("sqlitestore: load: %w", session.ErrExpired)
	}
	rec, err := decode(id, data, lastActive, idleDeadline)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: load: %w", err)
	}
	return rec, nil
}

// decode decodes a row: the record in data, with the columns that Touch
// updates laid over it.
func decode(id string, data []byte, lastActive, idleDeadline int64) (*session.Record, error) {
	rec, err := session.DecodeRecord(id, data)
	if err != nil {
		return nil, err
	}
	rec.LastActive = fromUnixNano(lastActive)
	rec.IdleDeadline = fromUnixNano(idleDeadline)
	return rec, nil
}

// Commit implements session.Store. An expected version of zero inserts the
// row, or replaces an expired one; any other version updates the row only if
// it is live and holds that version.
func (s *Store) Commit(ctx context.Context, rec *session.Record, expected uint64) error {
	if rec.Version > math.MaxInt64 || expected > math.MaxInt64 {
		return fmt.Errorf("sqlitestore: commit: version out of range")
	}
	subject, renewedTo := rec.Subject, rec.RenewedTo
	if rec.Tombstone() {
		subject = "" // a tombstone is no longer the user's session
		if rec.Ended {
			renewedTo = "-" // the column marks every tombstone; the record says which kind
		}
	}
	now := unixNano(s.now())
	args := []any{
		rec.ID, int64(rec.Version), subject, renewedTo,
		unixNano(rec.Created), unixNano(rec.LastActive), unixNano(rec.IdleDeadline), unixNano(rec.AbsoluteDeadline),
		unixNano(rec.Expires()), session.EncodeRecord(nil, rec),
	}
	var (
		res sql.Result
		err error
	)
	if expected == 0 {
		res, err = s.w.ExecContext(ctx, `
			INSERT INTO sessions (id, version, subject, renewed_to, created, last_active, idle_deadline, absolute_deadline, expires, data)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET
				version = excluded.version, subject = excluded.subject, renewed_to = excluded.renewed_to,
				created = excluded.created, last_active = excluded.last_active,
				idle_deadline = excluded.idle_deadline, absolute_deadline = excluded.absolute_deadline,
				expires = excluded.expires, data = excluded.data
			WHERE sessions.expires <= ?`,
			append(args, now)...)
	} else {
		res, err = s.w.ExecContext(ctx, `
			UPDATE sessions SET
				version = ?2, subject = ?3, renewed_to = ?4, created = ?5, last_active = ?6,
				idle_deadline = ?7, absolute_deadline = ?8, expires = ?9, data = ?10
			WHERE id = ?1 AND version = ?11 AND expires > ?12`,
			append(args, int64(expected), now)...)
	}
	if err != nil {
		return fmt.Errorf("sqlitestore: commit: %w", tooBig(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlitestore: commit: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("sqlitestore: commit: %w", session.ErrConflict)
	}
	return nil
}

// Touch implements session.Toucher. It updates the last_active,
// idle_deadline and expires columns only; the version stays. Neither time
// moves back: a request that read the clock before a newer touch or commit
// leaves the later times in place.
func (s *Store) Touch(ctx context.Context, id string, lastActive, idleDeadline time.Time) error {
	// The right-hand sides all read the row as it was before the update.
	res, err := s.w.ExecContext(ctx, `
		UPDATE sessions SET last_active = max(last_active, ?1), idle_deadline = max(idle_deadline, ?2),
			expires = min(max(idle_deadline, ?2), absolute_deadline)
		WHERE id = ?3 AND expires > ?4 AND renewed_to = ''`,
		unixNano(lastActive), unixNano(idleDeadline), id, unixNano(s.now()))
	if err != nil {
		return fmt.Errorf("sqlitestore: touch: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlitestore: touch: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("sqlitestore: touch: %w", session.ErrNotFound)
	}
	return nil
}

// Delete implements session.Store.
func (s *Store) Delete(ctx context.Context, id string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id); err != nil {
		return fmt.Errorf("sqlitestore: delete: %w", err)
	}
	return nil
}

// ListSubject implements session.SubjectIndex. Records that cannot be
// decoded are left out.
func (s *Store) ListSubject(ctx context.Context, subject string) ([]*session.Record, error) {
	if subject == "" {
		return nil, nil // anonymous sessions belong to nobody
	}
	rows, err := s.r.QueryContext(ctx, `
		SELECT id, data, last_active, idle_deadline FROM sessions
		WHERE subject = ? AND subject <> '' AND expires > ?
		ORDER BY created, id`,
		subject, unixNano(s.now()))
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list subject: %w", err)
	}
	recs, _, _, err := scanRecords(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list subject: %w", err)
	}
	return recs, nil
}

// scanRecords reads and closes rows of id, data, last_active, idle_deadline.
// It reports how many rows it read and the ID of the last one, counting the
// rows whose record could not be decoded and was left out.
func scanRecords(rows *sql.Rows) (recs []*session.Record, n int, lastID string, err error) {
	defer rows.Close()
	for rows.Next() {
		var (
			id                       string
			data                     []byte
			lastActive, idleDeadline int64
		)
		if err := rows.Scan(&id, &data, &lastActive, &idleDeadline); err != nil {
			return nil, 0, "", err
		}
		n, lastID = n+1, id
		rec, err := decode(id, data, lastActive, idleDeadline)
		if err != nil {
			continue // a corrupt record is nobody's live session
		}
		recs = append(recs, rec)
	}
	return recs, n, lastID, rows.Err()
}

// DeleteSubject implements session.SubjectIndex. It deletes the expired rows
// of subject too, but counts only the live sessions.
func (s *Store) DeleteSubject(ctx context.Context, subject string) (int, error) {
	if subject == "" {
		return 0, nil
	}
	rows, err := s.w.QueryContext(ctx,
		`DELETE FROM sessions WHERE subject = ? AND subject <> '' RETURNING expires > ?`,
		subject, unixNano(s.now()))
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: delete subject: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var live bool
		if err := rows.Scan(&live); err != nil {
			return 0, fmt.Errorf("sqlitestore: delete subject: %w", err)
		}
		if live {
			n++
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("sqlitestore: delete subject: %w", err)
	}
	return n, nil
}

// Range implements session.Iterator. It reads the sessions a page at a time,
// in ID order, and calls fn with no query open, so fn may call the store.
// Tombstones (renewed or ended) are visited too; records that cannot be
// decoded are skipped.
func (s *Store) Range(ctx context.Context, fn func(*session.Record) bool) error {
	after := ""
	for {
		rows, err := s.r.QueryContext(ctx, `
			SELECT id, data, last_active, idle_deadline FROM sessions
			WHERE id > ? AND expires > ? ORDER BY id LIMIT ?`,
			after, unixNano(s.now()), pageSize)
		if err != nil {
			return fmt.Errorf("sqlitestore: range: %w", err)
		}
		recs, n, lastID, err := scanRecords(rows)
		if err != nil {
			return fmt.Errorf("sqlitestore: range: %w", err)
		}
		for _, rec := range recs {
			if !fn(rec) {
				return nil
			}
		}
		if n < pageSize {
			return nil
		}
		after = lastID
	}
}

// Count implements session.Counter: the sessions that have not expired,
// tombstones left out. It walks the expires index, so its cost grows with the
// number of sessions; export it as a metric every few seconds at most.
func (s *Store) Count(ctx context.Context) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM sessions WHERE expires > ? AND renewed_to = ''`,
		unixNano(s.now())).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: count: %w", err)
	}
	return n, nil
}

// DeleteExpired implements session.Sweeper. It deletes in batches of
// Options.SweepBatch rows, each its own statement, so writers get the lock
// between batches.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	total := 0
	for {
		res, err := s.w.ExecContext(ctx, `
			DELETE FROM sessions WHERE rowid IN (
				SELECT rowid FROM sessions WHERE expires <= ? LIMIT ?)`,
			unixNano(now), s.batch)
		if err != nil {
			return total, fmt.Errorf("sqlitestore: delete expired: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("sqlitestore: delete expired: %w", err)
		}
		total += int(n)
		if n < int64(s.batch) {
			return total, nil
		}
	}
}

var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// unixNano returns t in Unix nanoseconds: 0 for the zero time, as in
// session.EncodeRecord, and clamped to the int64 range.
func unixNano(t time.Time) int64 {
	switch {
	case t.IsZero():
		return 0
	case t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

func fromUnixNano(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}
