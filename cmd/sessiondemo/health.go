package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	"github.com/sessionkit/session"
)

// GET /healthz: 200 when the store answers. It loads a random ID, which
// must come back ErrNotFound; anything else (a timeout, a refused
// connection) is 503. The response never sets a cookie.
func (a *app) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	var b [32]byte
	rand.Read(b[:])
	_, err := a.store.Load(ctx, hex.EncodeToString(b[:]))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !errors.Is(err, session.ErrNotFound) {
		a.log.ErrorContext(ctx, "health check failed", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("store unavailable\n"))
		return
	}
	w.Write([]byte("ok\n"))
}
