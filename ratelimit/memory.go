package ratelimit

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// MemoryOptions configures a Memory backend. The zero value is ready to use.
type MemoryOptions struct {
	// CleanupInterval is how often idle keys (those back to a full burst)
	// are removed in the background. Default one minute. Idle keys never
	// change a decision in the meantime; they only hold memory.
	CleanupInterval time.Duration
	// Now is the clock, for tests. Default time.Now.
	Now func() time.Time
}

// Memory is an in-process Backend: the fastest, and the one for a single
// app instance or for tests. Limits are per process; use redislimit.Backend
// (package ratelimit/redislimit) to share them between instances.
//
// Keys live in 64 shards, each a map from key to one int64 behind its own
// mutex. A background goroutine removes idle keys every
// MemoryOptions.CleanupInterval; call Close to stop it. Memory is safe for
// concurrent use.
type Memory struct {
	shards [memoryShards]memoryShard
	seed   maphash.Seed
	now    func() time.Time
	base   time.Time // tats are nanoseconds since base

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

var _ Backend = (*Memory)(nil)

const memoryShards = 64

type memoryShard struct {
	mu   sync.Mutex
	tats map[string]int64
	_    [48]byte // pad to 64 bytes: shards on separate cache lines
}

// NewMemory returns a Memory backend and starts its cleanup goroutine.
func NewMemory(opts MemoryOptions) *Memory {
	m := &Memory{
		seed: maphash.MakeSeed(),
		now:  opts.Now,
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	if m.now == nil {
		m.now = time.Now
	}
	// With time.Now, base carries a monotonic reading, so now.Sub(base) is
	// immune to wall-clock steps.
	m.base = m.now()
	for i := range m.shards {
		m.shards[i].tats = make(map[string]int64)
	}
	every := opts.CleanupInterval
	if every <= 0 {
		every = time.Minute
	}
	go m.cleaner(every)
	return m
}

func (m *Memory) shard(key string) *memoryShard {
	return &m.shards[maphash.String(m.seed, key)%memoryShards]
}

func (m *Memory) elapsed() int64 { return int64(m.now().Sub(m.base)) }

// Allow implements Backend. It never fails for a valid limit and n, and
// ignores ctx.
func (m *Memory) Allow(_ context.Context, key string, limit Limit, n int) (Decision, error) {
	interval, tau, err := limit.params()
	if err != nil {
		return Decision{}, err
	}
	if err := checkCost(limit, n); err != nil {
		return Decision{}, err
	}
	now := m.elapsed()
	s := m.shard(key)
	s.mu.Lock()
	tat, ok := s.tats[key]
	if !ok {
		tat = now
	}
	d, next, store := gcra(now, tat, int64(interval), int64(tau), n)
	if store {
		s.tats[key] = next
	}
	s.mu.Unlock()
	return d, nil
}

// Reset implements Backend. It never fails.
func (m *Memory) Reset(_ context.Context, key string) error {
	s := m.shard(key)
	s.mu.Lock()
	delete(s.tats, key)
	s.mu.Unlock()
	return nil
}

// Close stops the cleanup goroutine and waits for it to return. The
// backend keeps working afterwards, without cleanup. Close is idempotent
// and always returns nil.
func (m *Memory) Close() error {
	m.closeOnce.Do(func() { close(m.stop) })
	<-m.done
	return nil
}

func (m *Memory) cleaner(every time.Duration) {
	defer close(m.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.cleanup()
		}
	}
}

// cleanup removes idle keys: those whose tat is at or before now, which
// decide exactly like a missing key. It holds one shard lock at a time.
func (m *Memory) cleanup() {
	now := m.elapsed()
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		for k, tat := range s.tats {
			if tat <= now {
				delete(s.tats, k)
			}
		}
		s.mu.Unlock()
	}
}

// len returns the number of keys held, for tests.
func (m *Memory) len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.tats)
		s.mu.Unlock()
	}
	return n
}
