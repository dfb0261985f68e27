// Command sessiondemo is sessionkit's reference web app: a small shop that
// shows every part of the library at work. Run it with no setup:
//
//	go run ./cmd/sessiondemo
//	sessiondemo listening on http://127.0.0.1:8080
//
// and sign in as alice / wonderland (admin) or bob / builder (customer). It
// keeps its sessions in sessiondemo.db, an SQLite file in the working
// directory; -store picks another store (memory:, redis://, postgres://,
// mysql://, memcached://, see package storeurl), and two instances on one
// Redis share their sessions and their login rate limits. Behind a reverse
// proxy, -trusted-proxies names it, so that the client's address comes from
// its X-Forwarded-For (or Forwarded) header. sessiondemo -h lists the flags.
//
// The pages work without JavaScript:
//
//	GET  /                                catalog
//	GET  /cart, POST /cart/add, /cart/remove   the cart (kept across login)
//	GET  /login, POST /login, POST /logout     sign in (rate-limited), sign out
//	GET  /preferences, POST /preferences       theme and language
//	GET  /checkout/1, /2, /3 (and POST)        address, delivery, payment
//	GET  /checkout/review, POST /checkout/confirm, GET /checkout/done
//	GET  /account/sessions                     your devices
//	POST /account/sessions/revoke              sign out one device
//	POST /account/sessions/revoke-others       sign out all others (needs a recent login)
//	GET  /admin/sessions                       live sessions of every user (admins)
//	POST /admin/sessions/revoke                end a user's sessions (admins)
//	GET  /admin/activity                       security activity: events of the last hour (admins)
//	POST /admin/users/disable, /enable         disable an account (ends its sessions) or enable it (admins)
//	POST /api/login, GET /api/me, POST /api/cart/add, POST /api/logout
//	                                      JSON API, Authorization: Bearer
//	GET  /healthz, GET /metrics                health check, Prometheus metrics
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "sessiondemo:", err)
		os.Exit(1)
	}
}
