// Package mysqlstore keeps sessions in MySQL or MariaDB, through
// database/sql and github.com/go-sql-driver/mysql: the store for apps that
// run MySQL already and want sessions that outlive a restart and are shared
// by every app instance.
//
// Each session is one InnoDB row of a table (default "sessions"). The record
// is kept whole in a LONGBLOB column (session.EncodeRecord); the columns
// beside it hold what queries filter, order and expire on: version, subject,
// created and expires, plus last_active and idle_deadline, which Touch moves
// without rewriting the record or changing its version and which Load merges
// back. Times are BIGINT Unix microseconds, so they do not depend on the
// server's time_zone or on the DSN's parseTime and loc settings.
//
// Commit is a compare-and-swap in one statement: an UPDATE that matches the
// expected version of a live row. MySQL reports rows changed rather than
// rows matched, so Commit requires the new version to differ from the
// expected one; a successful swap then always changes the row and
// RowsAffected is exact. To create a session Commit INSERTs, and if the ID is
// taken, takes the row over only if it has expired. An expired row
// therefore counts as absent everywhere, before any sweep.
//
// New creates or migrates the schema from versioned SQL embedded in the
// package, under a GET_LOCK named lock, so app instances may start at the
// same time. Expired rows are deleted in the background every five minutes,
// 1000 rows per DELETE ... LIMIT statement. See Options for the defaults and
// the README for the schema, the permissions the store needs and DSN advice
// (interpolateParams=true saves a round trip per operation).
package mysqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sessionkit/session"
)

// Options configures a Store. The zero value is ready to use.
type Options struct {
	// Table names the sessions table. Default "sessions". It must be a plain
	// identifier (ASCII letters, digits and underscores, not starting with a
	// digit, at most 48 bytes); it is always quoted. The store also creates
	// Table_schema_version, and indexes named Table_expires_idx and
	// Table_subject_idx. The table lives in the DSN's database.
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

// Store is a MySQL/MariaDB session store. It is safe for concurrent use.
// Close stops its background sweeper; the *sql.DB belongs to the caller, who
// closes it after the store.
type Store struct {
	db    *sql.DB
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

// Defaults of Options, and limits of the schema.
const (
	DefaultTable         = "sessions"
	DefaultSweepInterval = 5 * time.Minute
	DefaultSweepBatch    = 1000

	// MaxSubject is the longest subject the subject column holds, in bytes.
	MaxSubject = 255
)

// rangePage is how many rows Range reads per query.
const rangePage = 500

// New returns a Store on the table named by opts.Table, after creating or
// migrating its schema (unless opts.SkipMigrate), and starts its background
// sweeper (unless opts.DisableSweeper). ctx bounds the migration only.
func New(ctx context.Context, db *sql.DB, opts Options) (*Store, error) {
	if db == nil {
		return nil, errors.New("mysqlstore: nil db")
	}
	table := opts.Table
	if table == "" {
		table = DefaultTable
	}
	if !validTable(table) {
		return nil, fmt.Errorf("mysqlstore: invalid table name %q: want letters, digits and underscores, at most %d bytes", table, maxTableLen)
	}
	s := &Store{db: db, table: table, now: opts.Now, batch: opts.SweepBatch, log: opts.Logger, q: buildQueries(table)}
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
// end. It does not close the *sql.DB, and the store keeps answering
// afterwards. Close is idempotent and always returns nil.
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
	load, create, takeOver, update, touch, live, delete string
	listSubject, deleteSubject, rangePage, count        string
	sweep                                               string
}

func buildQueries(table string) queries {
	t := "`" + table + "`"
	const set = `version = ?, subject = ?, created = ?, expires = ?, last_active = ?, idle_deadline = ?,
		absolute_deadline = ?, tombstone = ?, data = ?`
	const read = `id, data, last_active, idle_deadline`
	return queries{
		// An expired row still loads until it is swept, to tell expiry apart
		// from an unknown ID; the last column says which it is.
		load: `SELECT ` + read + `, expires > ? FROM ` + t + ` WHERE id = ?`,
		create: `INSERT INTO ` + t + ` (version, subject, created, expires, last_active, idle_deadline,
			absolute_deadline, tombstone, data, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		// The row is live again afterwards, so it always changes.
		takeOver: `UPDATE ` + t + ` SET ` + set + ` WHERE id = ? AND expires <= ?`,
		update:   `UPDATE ` + t + ` SET ` + set + ` WHERE id = ? AND version = ? AND expires > ?`,
		// No time moves back: a request that read the clock before a newer
		// touch or commit leaves the later times. MySQL runs assignments left
		// to right, each seeing the ones before it, and MariaDB may run them
		// all on the old row (SIMULTANEOUS_ASSIGNMENT): expires comes first,
		// so it reads the old idle_deadline either way.
		touch: `UPDATE ` + t + ` SET expires = LEAST(GREATEST(idle_deadline, ?), absolute_deadline),
				last_active = GREATEST(last_active, ?), idle_deadline = GREATEST(idle_deadline, ?)
			WHERE id = ? AND expires > ? AND NOT tombstone`,
		live:   `SELECT COUNT(*) FROM ` + t + ` WHERE id = ? AND expires > ? AND NOT tombstone`,
		delete: `DELETE FROM ` + t + ` WHERE id = ?`,
		listSubject: `SELECT ` + read + ` FROM ` + t + `
			WHERE subject = ? AND expires > ? ORDER BY created, id`,
		deleteSubject: `DELETE FROM ` + t + ` WHERE subject = ? AND expires > ?`,
		rangePage:     `SELECT ` + read + ` FROM ` + t + ` WHERE id > ? AND expires > ? ORDER BY id LIMIT ?`,
		count:         `SELECT COUNT(*) FROM ` + t + ` WHERE expires > ? AND NOT tombstone`,
		sweep:         `DELETE FROM ` + t + ` WHERE expires <= ? LIMIT ?`,
	}
}

// Load implements session.Store. A row that has expired but is not swept yet
// is reported as session.ErrExpired.
func (s *Store) Load(ctx context.Context, id string) (*session.Record, error) {
	if !validID(id) {
		return nil, fmt.Errorf("mysqlstore: load: %w", session.ErrNotFound)
	}
	var (
		r    row
		live bool
	)
	err := s.db.QueryRowContext(ctx, s.q.load, micros(s.now()), id).Scan(&r.id, &r.data, &r.lastActive, &r.idle, &live)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("mysqlstore: load: %w", session.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("mysqlstore: load: %w", err)
	case !live:
		return nil, fmt.Errorf("mysqlstore: load: %w", session.ErrExpired)
	}
	rec, err := decode(r)
	if err != nil {
		return nil, fmt.Errorf("mysqlstore: load: %w", err)
	}
	return rec, nil
}

// Commit implements session.Store.
func (s *Store) Commit(ctx context.Context, rec *session.Record, expected uint64) error {
	if !validID(rec.ID) {
		return errors.New("mysqlstore: commit: malformed session ID")
	}
	if expected != 0 && rec.Version == expected {
		// The swap must change the row for RowsAffected to tell a match.
		return errors.New("mysqlstore: commit: the new version must differ from the expected one")
	}
	subject, tombstone := rec.Subject, rec.Tombstone()
	if tombstone {
		subject = "" // a tombstone is nobody's session
	}
	if len(subject) > MaxSubject {
		return fmt.Errorf("mysqlstore: commit: subject longer than %d bytes", MaxSubject)
	}
	now := micros(s.now())
	data := session.EncodeRecord(nil, rec)
	args := []any{rec.Version, subject, micros(rec.Created), micros(rec.Expires()), micros(rec.LastActive),
		micros(rec.IdleDeadline), micros(rec.AbsoluteDeadline), tombstone, data, rec.ID}
	if len(data) >= largeRecord {
		if err := s.checkSize(ctx, data); err != nil {
			return fmt.Errorf("mysqlstore: commit: %w", err)
		}
	}
	var (
		res sql.Result
		err error
	)
	if expected == 0 {
		res, err = s.exec(ctx, s.q.create, args...)
		if isDuplicate(err) {
			// The ID is taken: by an expired row, which counts as absent and
			// is taken over, or by a live one, which is the conflict.
			res, err = s.exec(ctx, s.q.takeOver, append(args, now)...)
		}
	} else {
		res, err = s.exec(ctx, s.q.update, append(args, expected, now)...)
	}
	if isTooLarge(err) {
		return fmt.Errorf("mysqlstore: commit: %w: %w", session.ErrTooLarge, err)
	}
	if err != nil {
		return fmt.Errorf("mysqlstore: commit: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("mysqlstore: commit: %w", err)
	} else if n == 0 {
		return fmt.Errorf("mysqlstore: commit: %w", session.ErrConflict)
	}
	return nil
}

// Touch implements session.Toucher: one UPDATE of the time columns, which
// leaves the record and its version alone.
func (s *Store) Touch(ctx context.Context, id string, lastActive, idleDeadline time.Time) error {
	if !validID(id) {
		return fmt.Errorf("mysqlstore: touch: %w", session.ErrNotFound)
	}
	la, idle, now := micros(lastActive), micros(idleDeadline), micros(s.now())
	res, err := s.exec(ctx, s.q.touch, idle, la, idle, id, now)
	if err != nil {
		return fmt.Errorf("mysqlstore: touch: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("mysqlstore: touch: %w", err)
	}
	if n == 0 {
		// No row changed: either none matched, or the one that matched
		// already had these times or later ones (a repeated or stale
		// touch). Tell them apart.
		var live int
		if err := s.db.QueryRowContext(ctx, s.q.live, id, now).Scan(&live); err != nil {
			return fmt.Errorf("mysqlstore: touch: %w", err)
		}
		if live == 0 {
			return fmt.Errorf("mysqlstore: touch: %w", session.ErrNotFound)
		}
	}
	return nil
}

// Delete implements session.Store.
func (s *Store) Delete(ctx context.Context, id string) error {
	if !validID(id) {
		return nil // nothing can be stored under it
	}
	if _, err := s.exec(ctx, s.q.delete, id); err != nil {
		return fmt.Errorf("mysqlstore: delete: %w", err)
	}
	return nil
}

// exec runs a statement on its own (autocommit), again if InnoDB picked it
// as the victim of a deadlock: it was rolled back whole, so running it again
// is safe, and deadlocks between a sweep and commits are expected now and
// then.
func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	for attempt := 1; ; attempt++ {
		res, err := s.db.ExecContext(ctx, query, args...)
		if err == nil || attempt == 3 || !isDeadlock(err) {
			return res, err
		}
	}
}

// largeRecord is the encoded size from which a commit first checks that its
// statement fits the server's max_allowed_packet (checkSize). No server
// refuses a smaller record unless its max_allowed_packet is set far below
// every default (16 MiB in MariaDB, 64 MiB in MySQL 8).
const largeRecord = 1 << 20

// checkSize returns an error wrapping session.ErrTooLarge if a statement
// carrying data may be larger than the server's max_allowed_packet. Asking
// the server first costs a round trip, which only records of a megabyte or
// more pay, and spares the connection: a server sent a larger statement
// answers with an error and closes the connection, often while the client is
// still writing, so that the client sees a reset connection rather than the
// error, and database/sql may even hand the closed connection to the next
// operation. The size counted is an upper bound: the record as interpolated
// with every byte escaped that may need it, plus the rest of the statement.
func (s *Store) checkSize(ctx context.Context, data []byte) error {
	var limit int64
	if err := s.db.QueryRowContext(ctx, `SELECT @@max_allowed_packet`).Scan(&limit); err != nil {
		return err
	}
	n := int64(len(data)) + statementOverhead
	for _, c := range data {
		switch c {
		case 0, '\n', '\r', '\\', '\'', '"', 0x1a:
			n++ // escaped with a backslash, or a quote doubled
		}
	}
	if n > limit {
		return fmt.Errorf("%w: the record takes a statement of up to %d bytes, more than the server's max_allowed_packet (%d)",
			session.ErrTooLarge, n, limit)
	}
	return nil
}

// statementOverhead bounds what a commit statement holds beside the record:
// its text, the other parameters and the packet headers.
const statementOverhead = 4 << 10

const (
	errUnknown      = 1105 // ER_UNKNOWN_ERROR, which says what in its message
	errTooBigRow    = 1118 // ER_TOO_BIG_ROWSIZE, also a BLOB too large for the redo log
	errPacketTooBig = 1153 // ER_NET_PACKET_TOO_LARGE: more than max_allowed_packet
	errDupEntry     = 1062 // ER_DUP_ENTRY
	errDeadlock     = 1213 // ER_LOCK_DEADLOCK
)

// isTooLarge reports whether err says that the statement, and so the
// record, is larger than the client or the server accepts, which no retry
// cures: the client's own limit (mysql.ErrPktTooLarge, Config.MaxAllowedPacket),
// the server's max_allowed_packet, for the statement (1153) or for a
// parameter sent in pieces (1105, named in the message), or InnoDB's limit
// on a row or on the BLOB data of one transaction (1118).
func isTooLarge(err error) bool {
	if errors.Is(err, mysql.ErrPktTooLarge) {
		return true
	}
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return false
	}
	switch me.Number {
	case errPacketTooBig, errTooBigRow:
		return true
	case errUnknown:
		return strings.Contains(me.Message, "max_allowed_packet")
	}
	return false
}

func isDuplicate(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == errDupEntry
}

func isDeadlock(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == errDeadlock
}

// collect reads and decodes the rows of a query that selects id, data,
// last_active and idle_deadline. With skipCorrupt, a record that cannot be
// decoded is logged and left out instead of failing the whole list.
func (s *Store) collect(rows *sql.Rows, skipCorrupt bool) ([]*session.Record, error) {
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
	lastActive, idle int64
}

func readRows(rows *sql.Rows) ([]row, error) {
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
		rec, err := decode(r)
		if err != nil {
			if skipCorrupt && errors.Is(err, session.ErrCorrupt) {
				s.log.Warn("mysqlstore: skipped a corrupt record", "table", s.table, "err", err)
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
// the columns round down to microseconds.
func decode(r row) (*session.Record, error) {
	rec, err := session.DecodeRecord(r.id, r.data)
	if err != nil {
		return nil, err
	}
	if r.lastActive != micros(rec.LastActive) {
		rec.LastActive = fromMicros(r.lastActive)
	}
	if r.idle != micros(rec.IdleDeadline) {
		rec.IdleDeadline = fromMicros(r.idle)
	}
	return rec, nil
}

// micros is how the time columns hold a time: Unix microseconds, rounded
// down, so a row never outlives its record.
func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

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

// maxTableLen leaves room, within MySQL's 64-character identifiers, for the
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
