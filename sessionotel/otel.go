package sessionotel

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/sessionkit/session"
)

// ScopeName is the instrumentation scope of the tracer and meter.
const ScopeName = "github.com/sessionkit/session/sessionotel"

// Options configures Instrumentation. The zero value uses the global
// providers (otel.GetTracerProvider, otel.GetMeterProvider).
type Options struct {
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	// StoreName is the value of the sessionkit.store attribute ("redis",
	// "postgres", ...). It must be a constant of the app. Default "default".
	StoreName string
	// RootSpans makes a store call outside any trace (an admin's
	// RevokeSubject, a background job) a trace of its own. By default
	// only store calls within a traced request get a span.
	RootSpans bool
}

// Instrumentation turns a session manager's hooks into spans, span events
// and metrics. Create it with New and call Instrument on the manager's
// Config. It is safe for concurrent use.
type Instrumentation struct {
	tracer    trace.Tracer
	meter     metric.Meter
	store     string
	rootSpans bool

	// Attribute sets are built once: recording with a prebuilt set does not
	// allocate, which keeps the hooks cheap under a no-op provider.
	opSpanAttrs [len(storeOps)][]attribute.KeyValue
	opRecord    [len(storeOps)][]metric.RecordOption // passed as slices: a variadic
	opAdd       [len(storeOps)][]metric.AddOption    // argument would escape

	duration    metric.Float64Histogram
	storeErrors metric.Int64Counter
	events      map[session.EventKind]eventInstrument
}

// eventInstrument is the counter a lifecycle event adds to, with its
// attributes, and the name of the span event it adds to the request's span.
type eventInstrument struct {
	counter metric.Int64Counter
	attrs   []metric.AddOption
	span    string
}

var storeOps = [...]string{"load", "commit", "delete", "touch", "list", "delete_subject", "count", "other"}

func opIndex(op string) int {
	for i, o := range storeOps {
		if o == op {
			return i
		}
	}
	return len(storeOps) - 1
}

// New creates the instruments. The metric names follow the OpenTelemetry
// conventions and are those of sessionprom once an OpenTelemetry Prometheus
// exporter has translated them (sessionkit.sessions.created becomes
// sessionkit_sessions_created_total), so one dashboard serves both.
func New(opts Options) (*Instrumentation, error) {
	if opts.TracerProvider == nil {
		opts.TracerProvider = otel.GetTracerProvider()
	}
	if opts.MeterProvider == nil {
		opts.MeterProvider = otel.GetMeterProvider()
	}
	if opts.StoreName == "" {
		opts.StoreName = "default"
	}
	in := &Instrumentation{
		tracer:    opts.TracerProvider.Tracer(ScopeName),
		meter:     opts.MeterProvider.Meter(ScopeName),
		store:     opts.StoreName,
		rootSpans: opts.RootSpans,
		events:    make(map[session.EventKind]eventInstrument),
	}
	var errs []error
	counter := func(name, desc string) metric.Int64Counter {
		c, err := in.meter.Int64Counter(name, metric.WithDescription(desc), metric.WithUnit("1"))
		errs = append(errs, err)
		return c
	}
	event := func(kind session.EventKind, c metric.Int64Counter, attrs ...attribute.KeyValue) {
		in.events[kind] = eventInstrument{
			counter: c,
			attrs:   []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(attrs...))},
			span:    "session." + string(kind),
		}
	}
	event(session.EventCreated, counter("sessionkit.sessions.created", "Sessions created (stored for the first time)."))
	event(session.EventRenewed, counter("sessionkit.sessions.renewed", "Sessions moved to a new ID (login, privilege change)."))
	event(session.EventDestroyed, counter("sessionkit.sessions.destroyed", "Sessions ended by the application (logout)."))
	event(session.EventExpired, counter("sessionkit.sessions.expired", "Requests that came with a session past its idle or absolute deadline."))
	revoked := counter("sessionkit.sessions.revoked", "Sessions ended server-side: revoked by the user or an admin, or evicted by the per-user session limit.")
	event(session.EventRevoked, revoked, attribute.String("cause", "revoked"))
	event(session.EventEvicted, revoked, attribute.String("cause", "evicted"))
	rejected := counter("sessionkit.tokens.rejected", "Session tokens refused: malformed, unknown or stale.")
	event(session.EventMalformed, rejected, attribute.String("reason", "malformed"))
	event(session.EventUnknown, rejected, attribute.String("reason", "unknown"))
	event(session.EventStale, rejected, attribute.String("reason", "stale"))
	event(session.EventCorrupt, counter("sessionkit.corrupt_records", "Stored records that could not be decoded and were replaced."))
	event(session.EventConflict, counter("sessionkit.cas_conflicts", "Commits that met a concurrent change and replayed."))
	event(session.EventDiscarded, counter("sessionkit.discarded_changes", "Requests whose changes were dropped because a logout or login won."))
	event(session.EventTouched, counter("sessionkit.touches", "Idle-deadline extensions written for read-only requests."))
	event(session.EventTouchAvoided, counter("sessionkit.touches_avoided", "Read-only requests that wrote nothing because the session was touched recently."))
	event(session.EventClientChanged, counter("sessionkit.client_changes", "Logged-in sessions used by a client with another user agent or network."))
	event(session.EventLimit, counter("sessionkit.limit_rejections", "Logins refused by the per-user session limit."))

	var err error
	in.duration, err = in.meter.Float64Histogram("sessionkit.store.operation.duration",
		metric.WithDescription("Latency of the store calls made by the session manager, failed ones included."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
	errs = append(errs, err)
	in.storeErrors = counter("sessionkit.store.errors", "Store calls that failed (not found and version conflicts are answers, not failures).")
	for i, op := range storeOps {
		in.opSpanAttrs[i] = []attribute.KeyValue{attribute.String("sessionkit.store", opts.StoreName), attribute.String("sessionkit.store.operation", op)}
		set := metric.WithAttributeSet(attribute.NewSet(attribute.String("store", opts.StoreName), attribute.String("op", op)))
		in.opRecord[i], in.opAdd[i] = []metric.RecordOption{set}, []metric.AddOption{set}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("sessionotel: %w", err)
	}
	return in, nil
}

// Instrument sets cfg.OnEvent and cfg.OnStoreOp. Hooks already set are kept
// and called after these. Call it once per Config, before session.New.
func (in *Instrumentation) Instrument(cfg *session.Config) {
	if cfg == nil {
		panic("sessionotel: Instrument of a nil Config")
	}
	if prev := cfg.OnEvent; prev != nil {
		cfg.OnEvent = func(ctx context.Context, e session.Event) {
			in.Event(ctx, e)
			prev(ctx, e)
		}
	} else {
		cfg.OnEvent = in.Event
	}
	if prev := cfg.OnStoreOp; prev != nil {
		cfg.OnStoreOp = func(ctx context.Context, op session.StoreOp) {
			in.StoreOp(ctx, op)
			prev(ctx, op)
		}
	} else {
		cfg.OnStoreOp = in.StoreOp
	}
}

// Event counts a lifecycle event and adds it as a span event to the span in
// ctx (the request's span, when the app traces its requests). Neither
// carries the session's ID or its user: traces are often kept longer and
// seen by more people than the audit log.
func (in *Instrumentation) Event(ctx context.Context, e session.Event) {
	ei, ok := in.events[e.Kind]
	if !ok {
		return // EventStoreError is the store call's span; kinds added later
	}
	ei.counter.Add(ctx, 1, ei.attrs...)
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.AddEvent(ei.span)
	}
}

// StoreOp records a store call as a span (a child of the span in ctx,
// placed at the time the call took) and in the latency histogram, and
// counts it as an error unless the error is one of the store's answers
// (ErrNotFound, ErrConflict).
func (in *Instrumentation) StoreOp(ctx context.Context, op session.StoreOp) {
	i := opIndex(op.Op)
	in.duration.Record(ctx, op.Duration.Seconds(), in.opRecord[i]...)
	failed := op.Err != nil && !errors.Is(op.Err, session.ErrNotFound) && !errors.Is(op.Err, session.ErrConflict)
	if failed {
		in.storeErrors.Add(ctx, 1, in.opAdd[i]...)
	}
	if !in.rootSpans && !trace.SpanFromContext(ctx).SpanContext().IsValid() {
		return // not part of a trace: skipping the span saves its cost
	}
	end := time.Now()
	_, span := in.tracer.Start(ctx, "session.store."+storeOps[i],
		trace.WithTimestamp(end.Add(-op.Duration)),
		trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(in.opSpanAttrs[i]...))
	if span.IsRecording() {
		span.SetAttributes(attribute.String("sessionkit.store.outcome", outcome(op.Err, failed)))
		if failed {
			// The error's type, not its text: a store's message may name
			// the key, which is the session's ID.
			span.SetAttributes(attribute.String("error.type", reflect.TypeOf(op.Err).String()))
			span.SetStatus(codes.Error, "store error")
		}
	}
	span.End(trace.WithTimestamp(end))
}

func outcome(err error, failed bool) string {
	switch {
	case failed:
		return "error"
	case errors.Is(err, session.ErrConflict):
		return "conflict"
	case errors.Is(err, session.ErrNotFound):
		return "not_found"
	}
	return "ok"
}

// WatchStore reports sessionkit.sessions.live, the number of live sessions
// the store counts through session.Counter, each time the meter collects.
// Stores that cannot count (memcachedstore) are an error that wraps
// session.ErrUnsupported.
func (in *Instrumentation) WatchStore(store session.Store) error {
	counter, ok := store.(session.Counter)
	if !ok {
		return fmt.Errorf("sessionotel: watch store: %w: the store cannot count its sessions", session.ErrUnsupported)
	}
	attrs := metric.WithAttributeSet(attribute.NewSet(attribute.String("store", in.store)))
	_, err := in.meter.Int64ObservableGauge("sessionkit.sessions.live",
		metric.WithDescription("Live sessions in the store (tombstones not counted)."),
		metric.WithUnit("1"),
		metric.WithInt64Callback(func(ctx context.Context, o metric.Int64Observer) error {
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			n, err := counter.Count(ctx)
			if err != nil {
				in.storeErrors.Add(ctx, 1, in.opAdd[opIndex("count")]...)
				return nil // no sample rather than a made-up one
			}
			o.Observe(int64(n), attrs)
			return nil
		}))
	if err != nil {
		return fmt.Errorf("sessionotel: watch store: %w", err)
	}
	return nil
}
