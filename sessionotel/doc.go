// Package sessionotel reports what a session.Manager does to OpenTelemetry:
// a span per store call, a span event on the request's span per lifecycle
// event, and the metrics of sessionprom through the OpenTelemetry metrics
// API.
//
// The root package session imports the standard library only and reports
// through two hooks, Config.OnEvent and Config.OnStoreOp; this package turns
// them into telemetry, so only apps that want OpenTelemetry link it.
//
//	otelsess, err := sessionotel.New(sessionotel.Options{StoreName: "redis"})
//	if err != nil {
//		return err
//	}
//	cfg := session.Config{}
//	otelsess.Instrument(&cfg) // before session.New: the manager copies its Config
//	mgr, err := session.New(store, cfg)
//	...
//	otelsess.WatchStore(store) // sessionkit.sessions.live, if the store can count
//
// Wrap the handler in an OpenTelemetry HTTP middleware (otelhttp) so that
// requests have spans: store calls become their children, lifecycle events
// their events. A store call outside any trace gets no span unless
// Options.RootSpans is set.
//
// # Spans
//
// session.store.<op> (op: load, commit, delete, touch, list, delete_subject),
// kind internal, placed at the time the call took, with the attributes
// sessionkit.store (Options.StoreName), sessionkit.store.operation and
// sessionkit.store.outcome (ok, not_found, conflict or error). A failed call
// has status Error and error.type, the Go type of the error: never its text,
// which may name the session's key. Each attempt of a commit that replays
// after a conflict is a span of its own, so retries show as siblings with
// outcome conflict. Span events are named session.<kind> (session.created,
// session.renewed, ...) and carry no attributes.
//
// No span, event or metric carries a session ID, token, subject, client
// address or path: traces are kept longer and read by more people than the
// audit log, and the cardinality of the metrics must not grow with traffic.
//
// # Metrics
//
//	sessionkit.sessions.created, .renewed, .destroyed, .expired   counters
//	sessionkit.sessions.revoked{cause=revoked|evicted}              counter
//	sessionkit.tokens.rejected{reason=malformed|unknown|stale}      counter
//	sessionkit.corrupt_records, .cas_conflicts, .discarded_changes  counters
//	sessionkit.touches, .touches_avoided, .client_changes           counters
//	sessionkit.limit_rejections                                     counter
//	sessionkit.store.operation.duration{store,op}                   histogram, seconds
//	sessionkit.store.errors{store,op}                               counter
//	sessionkit.sessions.live{store}                                 gauge (WatchStore)
//
// Through an OpenTelemetry Prometheus exporter they carry sessionprom's
// names (sessionkit_sessions_created_total, ...), so its dashboard and alert
// rules apply. CSRF and rate-limit refusals (sessionprom's Rejected) are not
// counted here yet.
package sessionotel
