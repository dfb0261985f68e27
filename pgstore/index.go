package pgstore

import (
	"context"
	"fmt"

	"github.com/sessionkit/session"
)

// ListSubject implements session.SubjectIndex: the live sessions of subject,
// oldest first, read through the partial index on (subject, created).
// Tombstones are stored without a subject, so they are never listed.
func (s *Store) ListSubject(ctx context.Context, subject string) ([]*session.Record, error) {
	if subject == "" {
		return nil, nil // anonymous sessions belong to nobody
	}
	rows, err := s.pool.Query(ctx, s.q.listSubject, subject, s.now())
	if err != nil {
		return nil, fmt.Errorf("pgstore: list subject: %w", err)
	}
	recs, err := s.collect(rows, true)
	if err != nil {
		return nil, fmt.Errorf("pgstore: list subject: %w", err)
	}
	return recs, nil
}

// DeleteSubject implements session.SubjectIndex. It deletes every row of
// subject in one statement and reports how many of them were live.
func (s *Store) DeleteSubject(ctx context.Context, subject string) (int, error) {
	if subject == "" {
		return 0, nil
	}
	var n int
	if err := s.pool.QueryRow(ctx, s.q.deleteSubject, subject, s.now()).Scan(&n); err != nil {
		return 0, fmt.Errorf("pgstore: delete subject: %w", err)
	}
	return n, nil
}

// Range implements session.Iterator. It reads the table in pages in ID
// order and calls fn between queries, holding no connection, so fn may use
// the store. Sessions created or deleted during the walk may or may not be
// seen. Tombstones (renewed or ended) are visited too.
func (s *Store) Range(ctx context.Context, fn func(*session.Record) bool) error {
	after := ""
	for {
		rows, err := s.pool.Query(ctx, s.q.rangePage, after, s.now(), rangePage)
		if err != nil {
			return fmt.Errorf("pgstore: range: %w", err)
		}
		rs, err := readRows(rows)
		if err != nil {
			return fmt.Errorf("pgstore: range: %w", err)
		}
		recs, err := s.decodeRows(rs, true)
		if err != nil {
			return fmt.Errorf("pgstore: range: %w", err)
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
	if err := s.pool.QueryRow(ctx, s.q.count, s.now()).Scan(&n); err != nil {
		return 0, fmt.Errorf("pgstore: count: %w", err)
	}
	return n, nil
}
