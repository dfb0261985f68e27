package mysqlstore

import (
	"context"
	"fmt"

	"github.com/sessionkit/session"
)

// ListSubject implements session.SubjectIndex: the live sessions of subject,
// oldest first, read through the index on (subject, created). Tombstones are
// stored without a subject, so they are never listed.
func (s *Store) ListSubject(ctx context.Context, subject string) ([]*session.Record, error) {
	if subject == "" || len(subject) > MaxSubject {
		return nil, nil // anonymous sessions belong to nobody
	}
	rows, err := s.db.QueryContext(ctx, s.q.listSubject, subject, micros(s.now()))
	if err != nil {
		return nil, fmt.Errorf("mysqlstore: list subject: %w", err)
	}
	recs, err := s.collect(rows, true)
	if err != nil {
		return nil, fmt.Errorf("mysqlstore: list subject: %w", err)
	}
	return recs, nil
}

// DeleteSubject implements session.SubjectIndex. It deletes the live
// sessions of subject in one statement and reports how many there were;
// expired ones are left to the sweeper.
func (s *Store) DeleteSubject(ctx context.Context, subject string) (int, error) {
	if subject == "" || len(subject) > MaxSubject {
		return 0, nil
	}
	res, err := s.exec(ctx, s.q.deleteSubject, subject, micros(s.now()))
	if err != nil {
		return 0, fmt.Errorf("mysqlstore: delete subject: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("mysqlstore: delete subject: %w", err)
	}
	return int(n), nil
}

// Range implements session.Iterator. It reads the table in pages in ID
// order and calls fn between queries, holding no connection, so fn may use
// the store. Sessions created or deleted during the walk may or may not be
// seen. Tombstones (renewed or ended) are visited too.
func (s *Store) Range(ctx context.Context, fn func(*session.Record) bool) error {
	after := ""
	for {
		rows, err := s.db.QueryContext(ctx, s.q.rangePage, after, micros(s.now()), rangePage)
		if err != nil {
			return fmt.Errorf("mysqlstore: range: %w", err)
		}
		rs, err := readRows(rows)
		if err != nil {
			return fmt.Errorf("mysqlstore: range: %w", err)
		}
		recs, err := s.decodeRows(rs, true)
		if err != nil {
			return fmt.Errorf("mysqlstore: range: %w", err)
		}
		for _, rec := range recs {
			if !fn(rec) {
				return nil
			}
		}
		if len(rs) < rangePage {
			return nil
		}
		after = rs[len(rs)-1].id
	}
}

// Count implements session.Counter: the number of live sessions, counted on
// the index on expires; tombstones are left out.
func (s *Store) Count(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, s.q.count, micros(s.now())).Scan(&n); err != nil {
		return 0, fmt.Errorf("mysqlstore: count: %w", err)
	}
	return n, nil
}
