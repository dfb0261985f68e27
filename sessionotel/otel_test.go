package sessionotel_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	metricnoop "go.opentelemetry.io/otel/metric/noop"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
	"github.com/sessionkit/session/sessionotel"
)

// flakyStore fails loads while down is set.
type flakyStore struct {
	*memstore.Store
	down atomic.Bool
}

var errDown = errors.New("store down")

func (s *flakyStore) Load(ctx context.Context, id string) (*session.Record, error) {
	if s.down.Load() {
		return nil, errDown
	}
	return s.Store.Load(ctx, id)
}

type fixture struct {
	t       *testing.T
	spans   *tracetest.InMemoryExporter
	metrics *sdkmetric.ManualReader
	store   *flakyStore
	srv     *httptest.Server
	client  *http.Client
	ids     map[string]bool // every session ID and subject seen by the hooks
}

// newFixture runs an app whose requests are traced by an SDK tracer (as
// otelhttp would) over an instrumented manager.
func newFixture(t *testing.T, opts sessionotel.Options) *fixture {
	f := &fixture{t: t, spans: tracetest.NewInMemoryExporter(), metrics: sdkmetric.NewManualReader(), ids: map[string]bool{}}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(f.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(f.metrics))
	t.Cleanup(func() { tp.Shutdown(context.Background()); mp.Shutdown(context.Background()) })
	opts.TracerProvider, opts.MeterProvider = tp, mp
	in, err := sessionotel.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	f.store = &flakyStore{Store: memstore.New(memstore.Options{})}
	t.Cleanup(func() { f.store.Close() })
	cfg := session.Config{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnEvent: func(_ context.Context, e session.Event) {
			f.ids[e.ID], f.ids[e.Subject] = true, true
		},
	}
	in.Instrument(&cfg)
	mgr, err := session.New(f.store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := in.WatchStore(f.store); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		if err := session.Login(r.Context(), "alice"); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		if _, err := session.Get[string](r.Context(), "k"); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		session.Destroy(r.Context())
	})
	tracer := tp.Tracer("test")
	traced := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, span := tracer.Start(r.Context(), "GET "+r.URL.Path, trace.WithSpanKind(trace.SpanKindServer))
			defer span.End()
			h.ServeHTTP(w, r.WithContext(ctx))
		})
	}
	f.srv = httptest.NewTLSServer(traced(mgr.Handler(mux)))
	t.Cleanup(f.srv.Close)
	jar, _ := cookiejar.New(nil)
	c := *f.srv.Client()
	c.Jar = jar
	f.client = &c
	return f
}

func (f *fixture) get(path string) int {
	f.t.Helper()
	resp, err := f.client.Get(f.srv.URL + path)
	if err != nil {
		f.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func attr(kvs []attribute.KeyValue, key string) (string, bool) {
	for _, kv := range kvs {
		if string(kv.Key) == key {
			return kv.Value.String(), true
		}
	}
	return "", false
}

func TestSpans(t *testing.T) {
	f := newFixture(t, sessionotel.Options{StoreName: "mem"})
	f.get("/login")
	f.get("/login") // a renewal
	f.get("/get")
	f.store.down.Store(true)
	if code := f.get("/get"); code != http.StatusServiceUnavailable {
		t.Fatalf("status %d with the store down; want 503", code)
	}
	f.store.down.Store(false)
	f.get("/logout")

	spans := f.spans.GetSpans()
	requests := map[trace.SpanID]tracetest.SpanStub{}
	for _, s := range spans {
		if s.SpanKind == trace.SpanKindServer {
			requests[s.SpanContext.SpanID()] = s
		}
	}
	var loads, failed int
	events := map[string]int{}
	for _, s := range spans {
		for _, e := range s.Events {
			events[e.Name]++
			if len(e.Attributes) != 0 {
				t.Errorf("span event %s carries attributes %v", e.Name, e.Attributes)
			}
		}
		if s.SpanKind == trace.SpanKindServer {
			continue
		}
		if _, ok := requests[s.Parent.SpanID()]; !ok {
			t.Errorf("store span %s is not a child of a request span", s.Name)
		}
		if s.EndTime.Before(s.StartTime) {
			t.Errorf("span %s ends before it starts", s.Name)
		}
		if got, _ := attr(s.Attributes, "sessionkit.store"); got != "mem" {
			t.Errorf("span %s: sessionkit.store = %q", s.Name, got)
		}
		for _, kv := range s.Attributes {
			if f.ids[kv.Value.String()] {
				t.Errorf("span %s carries a session ID or subject in %s", s.Name, kv.Key)
			}
		}
		outcome, _ := attr(s.Attributes, "sessionkit.store.outcome")
		if s.Name == "session.store.load" {
			loads++
		}
		if outcome == "error" {
			failed++
			if s.Status.Code != codes.Error {
				t.Errorf("failed span %s has status %v", s.Name, s.Status)
			}
			if typ, _ := attr(s.Attributes, "error.type"); typ != "*errors.errorString" {
				t.Errorf("failed span %s: error.type %q", s.Name, typ)
			}
			if strings.Contains(s.Status.Description, errDown.Error()) {
				t.Errorf("the status carries the store's message: %q", s.Status.Description)
			}
		}
	}
	if loads < 3 || failed != 1 {
		t.Errorf("%d load spans, %d failed spans; want at least 3 and exactly 1", loads, failed)
	}
	for _, name := range []string{"session.created", "session.renewed", "session.destroyed"} {
		if events[name] != 1 {
			t.Errorf("span event %s seen %d times; want 1 (all: %v)", name, events[name], events)
		}
	}
}

func TestMetrics(t *testing.T) {
	f := newFixture(t, sessionotel.Options{StoreName: "mem"})
	f.get("/login")
	f.get("/login") // a renewal
	f.get("/get")
	f.store.down.Store(true)
	f.get("/get")
	f.store.down.Store(false)
	var rm metricdata.ResourceMetrics
	if err := f.metrics.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	sums := map[string]int64{}
	gauges := map[string]int64{}
	var histCount uint64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					key := m.Name
					if v, ok := p.Attributes.Value("op"); ok {
						key += "/" + v.AsString()
					}
					sums[key] += p.Value
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					gauges[m.Name] += p.Value
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					histCount += p.Count
				}
			}
		}
	}
	for name, want := range map[string]int64{
		"sessionkit.sessions.created":   1,
		"sessionkit.sessions.renewed":   1,
		"sessionkit.store.errors/load":  1,
		"sessionkit.sessions.destroyed": 0,
	} {
		if sums[name] != want {
			t.Errorf("%s = %d; want %d (all: %v)", name, sums[name], want, sums)
		}
	}
	if gauges["sessionkit.sessions.live"] != 1 {
		t.Errorf("sessionkit.sessions.live = %d; want 1", gauges["sessionkit.sessions.live"])
	}
	if histCount < 4 {
		t.Errorf("store latency histogram holds %d calls; want at least 4", histCount)
	}
}

// With the no-op providers, which is what an app gets before it configures
// OpenTelemetry, the hooks must stay nearly free.
func TestNoopCost(t *testing.T) {
	in, err := sessionotel.New(sessionotel.Options{TracerProvider: noop.NewTracerProvider(), MeterProvider: metricnoop.NewMeterProvider()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	op := session.StoreOp{Op: "load", Duration: 1000}
	ev := session.Event{Kind: session.EventCreated, ID: "x"}
	if n := testing.AllocsPerRun(100, func() {
		in.StoreOp(ctx, op)
		in.Event(ctx, ev)
	}); n != 0 {
		t.Errorf("a store call and an event allocate %v times under the no-op providers; want 0", n)
	}
}

func BenchmarkNoop(b *testing.B) {
	in, _ := sessionotel.New(sessionotel.Options{TracerProvider: noop.NewTracerProvider(), MeterProvider: metricnoop.NewMeterProvider()})
	ctx := context.Background()
	op := session.StoreOp{Op: "load", Duration: 1000}
	ev := session.Event{Kind: session.EventCreated}
	b.ReportAllocs()
	for b.Loop() {
		in.StoreOp(ctx, op)
		in.Event(ctx, ev)
	}
}

// BenchmarkSDK is the cost with the SDK recording into memory, inside a
// traced request: a span per store call.
func BenchmarkSDK(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sdktrace.NewSimpleSpanProcessor(tracetest.NewNoopExporter())))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	in, _ := sessionotel.New(sessionotel.Options{TracerProvider: tp, MeterProvider: mp})
	ctx, span := tp.Tracer("bench").Start(context.Background(), "request")
	defer span.End()
	op := session.StoreOp{Op: "load", Duration: 1000}
	ev := session.Event{Kind: session.EventCreated}
	b.ReportAllocs()
	for b.Loop() {
		in.StoreOp(ctx, op)
		in.Event(ctx, ev)
	}
}
