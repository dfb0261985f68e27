package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/sessionkit/session"
)

// statsCmd counts the live sessions by state and by age: sessionctl stats.
type statsCmd struct{}

func (*statsCmd) flags(*flag.FlagSet)      {}
func (*statsCmd) args(args []string) error { return noArgs("stats", args) }

// stats is the JSON form of the counts.
type stats struct {
	Now        time.Time `json:"now"`
	Sessions   int       `json:"sessions"`   // live sessions, tombstones excluded
	Tombstones int       `json:"tombstones"` // renewal and ended tombstones
	ByState    struct {
		Anonymous  int `json:"anonymous"`
		LoggedIn   int `json:"logged_in"`
		RememberMe int `json:"remember_me"`
		Tombstone  int `json:"renewal_tombstone"`
	} `json:"by_state"`
	ByAge struct { // of sessions, by creation; tombstones excluded
		Hour  int `json:"under_1h"`
		Day   int `json:"under_24h"`
		Older int `json:"older"`
	} `json:"by_age"`
}

func (*statsCmd) run(ctx context.Context, e *env) error {
	it, ok := e.store.(session.Iterator)
	if !ok {
		return unsupported("stats: this store cannot walk its sessions (it has no session.Iterator; memcached has none)")
	}
	var s stats
	s.Now = e.now
	err := it.Range(ctx, func(rec *session.Record) bool {
		if !live(rec, e.now) {
			return true
		}
		switch state(rec) {
		case "renewal tombstone", "ended tombstone":
			s.Tombstones++
			s.ByState.Tombstone++
			return true
		case "anonymous":
			s.ByState.Anonymous++
		case "remember-me":
			s.ByState.RememberMe++
		default:
			s.ByState.LoggedIn++
		}
		s.Sessions++
		switch age := e.now.Sub(rec.Created); {
		case age < time.Hour:
			s.ByAge.Hour++
		case age < 24*time.Hour:
			s.ByAge.Day++
		default:
			s.ByAge.Older++
		}
		return true
	})
	if err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	if e.json {
		return writeJSON(e.stdout, s)
	}
	w := table(e.stdout)
	fmt.Fprintf(w, "%s and %s at %s\n", plural(s.Sessions, "live session"), plural(s.Tombstones, "renewal tombstone"), timestamp(e.now))
	fmt.Fprintf(w, "\nSTATE\tCOUNT\n")
	fmt.Fprintf(w, "anonymous\t%d\n", s.ByState.Anonymous)
	fmt.Fprintf(w, "logged in\t%d\n", s.ByState.LoggedIn)
	fmt.Fprintf(w, "remember-me\t%d\n", s.ByState.RememberMe)
	fmt.Fprintf(w, "renewal tombstone\t%d\n", s.ByState.Tombstone)
	fmt.Fprintf(w, "\nAGE (sessions, since creation)\tCOUNT\n")
	fmt.Fprintf(w, "under 1h\t%d\n", s.ByAge.Hour)
	fmt.Fprintf(w, "1h to 24h\t%d\n", s.ByAge.Day)
	fmt.Fprintf(w, "24h and older\t%d\n", s.ByAge.Older)
	return w.Flush()
}
