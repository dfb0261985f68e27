package session

import (
	"context"
	"time"
)

// Record is what a store keeps for one session: its metadata, which stores may
// index and expire on, and its values, each encoded on its own (JSON by default).
//
// A Record handed to a store by Commit, or returned by Load, is never modified
// afterwards by the manager: stores may keep it as it is, and return the same
// pointer from later loads. Callers outside the manager must treat records
// from a store as read-only.
type Record struct {
	// ID is the hex SHA-256 of the session token; the token itself never
	// reaches a store.
	ID string
	// Version increases by one on every commit; Commit compares it.
	Version uint64
	// Subject identifies the user the session belongs to; empty while the
	// visitor is anonymous.
	Subject string

	Created    time.Time // when the session was created
	LastActive time.Time // last recorded activity (throttled, see Config.TouchInterval)
	AuthTime   time.Time // last authentication; zero while anonymous

	// IdleDeadline slides with activity; AbsoluteDeadline is fixed when the
	// session is created or the user authenticates again. The session ends at
	// the earlier of the two (see Expires).
	IdleDeadline     time.Time
	AbsoluteDeadline time.Time

	// Persistent is set for remember-me sessions, whose cookie outlives the
	// browser session.
	Persistent bool

	// ClientAddr and UserAgent describe the client that created the session,
	// updated when the session is renewed.
	ClientAddr string
	UserAgent  string

	// RenewedTo and Ended make the record a tombstone (see Tombstone): what
	// an ID leaves behind for a short while (Config.RenewGrace) when its
	// session moves or ends. A tombstone never loads as a session and is no
	// one's session in a SubjectIndex; it only tells a slower request that
	// still holds the ID what became of it. RenewedTo names the ID the
	// session moved to when it was renewed; Ended says it was destroyed or
	// revoked.
	RenewedTo string
	Ended     bool

	// ClientLocked limits the session to the client recorded in ClientAddr
	// and UserAgent even while it is anonymous: set when a client change
	// ended its login (Config.ClientChange), so that the client that
	// triggered it cannot read what the session kept.
	ClientLocked bool

	// Values holds the session data, sorted by key, each value encoded on its
	// own. Data slices are shared with the store and must not be modified.
	Values []Value
}

// Value is one key of a session and its encoded value.
type Value struct {
	Key  string
	Data []byte
}

// Tombstone reports whether the record is a tombstone: a session that was
// renewed (RenewedTo) or ended (Ended), never to be loaded as a session.
func (r *Record) Tombstone() bool { return r.RenewedTo != "" || r.Ended }

// Expires reports when the session ends: the earlier of its idle and absolute
// deadlines.
func (r *Record) Expires() time.Time {
	if r.AbsoluteDeadline.Before(r.IdleDeadline) {
		return r.AbsoluteDeadline
	}
	return r.IdleDeadline
}

// Lookup returns the encoded value of key.
func (r *Record) Lookup(key string) ([]byte, bool) {
	if i, ok := r.find(key); ok {
		return r.Values[i].Data, true
	}
	return nil, false
}

// find returns the position of key in r.Values, or where it would go.
func (r *Record) find(key string) (int, bool) {
	// Sessions hold few keys: a linear scan beats a binary search and a map.
	for i := range r.Values {
		switch k := r.Values[i].Key; {
		case k == key:
			return i, true
		case k > key:
			return i, false
		}
	}
	return len(r.Values), false
}

// Store is where sessions live. Implementations must be safe for concurrent
// use and must not panic for any input.
//
// A store decides nothing about lifetimes: the manager sets the deadlines. A
// store must not return, from Load or from any optional capability, a record
// whose Expires is not after the store's current time, and should let storage
// reclaim it (a TTL, or a Sweeper).
type Store interface {
	// Load returns the record stored under id, or an error wrapping
	// ErrNotFound if there is none or it has expired.
	Load(ctx context.Context, id string) (*Record, error)

	// Commit stores rec under rec.ID if the stored version is expected, and
	// otherwise returns an error wrapping ErrConflict. An expected version of
	// zero means "create only if absent". A record that is absent (never
	// created, deleted, or expired) never matches a non-zero version, so a
	// deleted session cannot be brought back by a commit.
	//
	// rec.Version is the version to store; the manager sets it to expected+1.
	Commit(ctx context.Context, rec *Record, expected uint64) error

	// Delete removes the record stored under id. Deleting an absent record
	// is not an error.
	Delete(ctx context.Context, id string) error
}

// Toucher is an optional Store capability: it extends a live session's idle
// deadline without rewriting the record or changing its version, so a touch
// never makes a concurrent writer retry. Stores without it are touched by a
// Commit that changes nothing but the deadline.
type Toucher interface {
	// Touch sets LastActive and IdleDeadline of the record stored under id if
	// it exists and is not a tombstone. It returns an error wrapping
	// ErrNotFound otherwise, and never creates a record. A store whose touch
	// can lose to concurrent commits may give up with an error wrapping
	// ErrConflict: those commits extend the deadline themselves.
	Touch(ctx context.Context, id string, lastActive, idleDeadline time.Time) error
}

// SubjectIndex is an optional Store capability: sessions indexed by Subject,
// for "your devices", "log out everywhere" and concurrent-session limits.
type SubjectIndex interface {
	// ListSubject returns the live sessions of subject, oldest first.
	// Tombstones are not listed.
	ListSubject(ctx context.Context, subject string) ([]*Record, error)
	// DeleteSubject removes every session of subject and reports how many
	// were removed.
	DeleteSubject(ctx context.Context, subject string) (int, error)
}

// Iterator is an optional Store capability: a walk over all live sessions,
// for admin tools. It is not meant for request paths.
type Iterator interface {
	// Range calls fn for each live record, in no particular order, until fn
	// returns false.
	Range(ctx context.Context, fn func(*Record) bool) error
}

// Counter is an optional Store capability: the number of live sessions,
// cheap enough to export as a metric.
type Counter interface {
	Count(ctx context.Context) (int, error)
}

// Sweeper is an optional Store capability for stores without native expiry:
// it deletes the records that expired at or before now and reports how many
// it deleted. Stores that sweep in the background use it themselves.
type Sweeper interface {
	DeleteExpired(ctx context.Context, now time.Time) (int, error)
}
