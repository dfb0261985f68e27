package mysqlstore

import (
	"context"
	"fmt"
	"time"
)

// DeleteExpired implements session.Sweeper. It deletes the rows that expired
// at or before now with DELETE ... LIMIT Options.SweepBatch statements, each
// short and on its own, until one comes back short. Several app instances
// may sweep the same table at once: InnoDB row locks make their statements
// take turns on a row, and each row is deleted, and counted, once.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	total := 0
	for {
		res, err := s.exec(ctx, s.q.sweep, micros(now), s.batch)
		if err != nil {
			return total, fmt.Errorf("mysqlstore: delete expired: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("mysqlstore: delete expired: %w", err)
		}
		total += int(n)
		if int(n) < s.batch {
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
			s.log.Warn("mysqlstore: sweep failed", "table", s.table, "deleted", n, "err", err)
		}
	}
}
