// Package httpserver runs the HTTP servers of the project's commands (sessiond,
// sessiondemo) with the same timeouts and the same graceful shutdown.
package httpserver

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Run serves h on ln until ctx is done, then lets in-flight requests finish
// for up to 5 seconds before it closes what is left. It returns the
// server's error if serving stopped on its own, nil after a shutdown.
func Run(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close()
		log.Warn("shutdown did not finish in time; connections closed", "err", err)
	}
	<-served
	log.Info("stopped")
	return nil
}
