package pgstore

import (
	"context"
	"fmt"
	"time"
)

// DeleteExpired implements session.Sweeper. It deletes the rows that expired
// at or before now in batches of Options.SweepBatch, one short statement
// each, until a batch comes back short. Rows locked by a concurrent sweeper
// (or a commit) are skipped rather than waited for, so any number of app
// instances may sweep the same table at once and each row is deleted, and
// counted, once.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	total := 0
	for {
		tag, err := s.pool.Exec(ctx, s.q.sweep, now, s.batch)
		if err != nil {
			return total, fmt.Errorf("pgstore: delete expired: %w", err)
		}
		n := int(tag.RowsAffected())
		total += n
		if n < s.batch {
			return total, nil
		}
	}
}

// sweep deletes expired rows every interval until ctx is cancelled.
func (s *Store) sweep(ctx context.Context, interval time.Duration) {
	defer close(s.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := s.DeleteExpired(ctx, s.now()); err != nil {
			if ctx.Err() != nil {
				return // closed mid-sweep
			}
			s.log.Warn("pgstore: sweep failed", "table", s.table, "deleted", n, "err", err)
		}
	}
}
