package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/sessionkit/session"
)

// sweepCmd deletes expired sessions from stores without native expiry:
// sessionctl sweep. Those stores also sweep in the background; this is for
// deployments that turned that off, or want it done now.
type sweepCmd struct{}

func (*sweepCmd) flags(*flag.FlagSet)      {}
func (*sweepCmd) args(args []string) error { return noArgs("sweep", args) }

// sweepJSON is the JSON form of sweep's result.
type sweepJSON struct {
	Deleted      int  `json:"deleted"`
	NativeExpiry bool `json:"native_expiry"` // the store expires records itself: nothing to sweep
}

func (*sweepCmd) run(ctx context.Context, e *env) error {
	sw, ok := e.store.(session.Sweeper)
	if !ok {
		if e.json {
			return writeJSON(e.stdout, sweepJSON{NativeExpiry: true})
		}
		_, err := fmt.Fprintln(e.stdout, "expiry is native to this store; nothing to sweep")
		return err
	}
	n, err := sw.DeleteExpired(ctx, e.now)
	if err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	if e.json {
		return writeJSON(e.stdout, sweepJSON{Deleted: n})
	}
	_, err = fmt.Fprintf(e.stdout, "deleted %s expired at %s\n", plural(n, "session"), timestamp(e.now))
	return err
}
