// Command sessionctl administers the sessions of a sessionkit store: counts,
// lists, shows and revokes sessions, sweeps expired ones and migrates the
// schema, against any store URL that storeurl opens.
//
//	sessionctl --store redis://127.0.0.1:6379/0 stats
//	SESSIONCTL_STORE=sqlite:///var/lib/app/sessions.db sessionctl list --user alice
//	sessionctl --store postgres://app@db/app --json show 3f5a...
//
// Run "sessionctl help" for every command. Exit status: 0 on success, 1 when
// the operation failed (store unreachable, session not found), 2 for a usage
// error (unknown command or flag, malformed ID, unknown store scheme).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	var usage *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return
	case errors.As(err, &usage):
		fmt.Fprintf(os.Stderr, "sessionctl: %v\nRun 'sessionctl help' for usage.\n", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "sessionctl:", err)
		os.Exit(1)
	}
}
