package session

import (
	"context"
	"time"
)

// StoreOp describes one store call, for Config.OnStoreOp.
type StoreOp struct {
	Op       string // "load", "commit", "delete", "touch", "list", "delete_subject"
	Duration time.Duration
	Err      error // nil, or the store's error (ErrNotFound and ErrConflict included)
}

// ops is the manager's way to the store: every call goes through it, so that
// Config.OnStoreOp sees each one with its latency. Without the hook it costs
// nothing but the call.
type ops struct {
	store   Store
	toucher Toucher // nil when the store has no Touch
	observe func(context.Context, StoreOp)
}

func (o *ops) done(ctx context.Context, op string, start time.Time, err error) {
	o.observe(ctx, StoreOp{Op: op, Duration: time.Since(start), Err: err})
}

func (o *ops) Load(ctx context.Context, id string) (*Record, error) {
	if o.observe == nil {
		return o.store.Load(ctx, id)
	}
	start := time.Now()
	rec, err := o.store.Load(ctx, id)
	o.done(ctx, "load", start, err)
	return rec, err
}

func (o *ops) Commit(ctx context.Context, rec *Record, expected uint64) error {
	if o.observe == nil {
		return o.store.Commit(ctx, rec, expected)
	}
	start := time.Now()
	err := o.store.Commit(ctx, rec, expected)
	o.done(ctx, "commit", start, err)
	return err
}

func (o *ops) Delete(ctx context.Context, id string) error {
	if o.observe == nil {
		return o.store.Delete(ctx, id)
	}
	start := time.Now()
	err := o.store.Delete(ctx, id)
	o.done(ctx, "delete", start, err)
	return err
}

func (o *ops) Touch(ctx context.Context, id string, lastActive, idleDeadline time.Time) error {
	if o.observe == nil {
		return o.toucher.Touch(ctx, id, lastActive, idleDeadline)
	}
	start := time.Now()
	err := o.toucher.Touch(ctx, id, lastActive, idleDeadline)
	o.done(ctx, "touch", start, err)
	return err
}

func (o *ops) ListSubject(ctx context.Context, idx SubjectIndex, subject string) ([]*Record, error) {
	if o.observe == nil {
		return idx.ListSubject(ctx, subject)
	}
	start := time.Now()
	recs, err := idx.ListSubject(ctx, subject)
	o.done(ctx, "list", start, err)
	return recs, err
}
