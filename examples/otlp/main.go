package main

import (
	"context"
	"log"
	"net/http"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
	"github.com/sessionkit/session/sessionotel"
)

// Command otlp serves sessions whose spans go to an OpenTelemetry collector over OTLP/HTTP (OTEL_EXPORTER_OTLP_*
// variables configure the endpoint); metrics go to the global meter
// provider.
func main() {
	exp, err := otlptracehttp.New(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))
	defer tp.Shutdown(context.Background())

	telemetry, err := sessionotel.New(sessionotel.Options{TracerProvider: tp, StoreName: "memory"})
	if err != nil {
		log.Fatal(err)
	}
	store := memstore.New(memstore.Options{})
	cfg := session.Config{}
	telemetry.Instrument(&cfg)
	mgr, err := session.New(store, cfg)
	if err != nil {
		log.Fatal(err)
	}
	if err := telemetry.WatchStore(store); err != nil {
		log.Fatal(err)
	}
	// Wrap with otelhttp.NewHandler too, so that store calls have a
	// request span to belong to.
	log.Fatal(http.ListenAndServe(":8080", mgr.Handler(http.NotFoundHandler())))
}
