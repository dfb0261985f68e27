// Package sessionprom exports the metrics of a session.Manager to Prometheus.
//
// The root package session imports the standard library only; it reports what
// happens through two hooks, Config.OnEvent and Config.OnStoreOp. This package
// turns them into Prometheus counters and histograms, so that only apps that
// want Prometheus link its client.
//
// # Quick start
//
//	metrics, err := sessionprom.New(prometheus.DefaultRegisterer, sessionprom.Options{StoreName: "redis"})
//	if err != nil {
//		return err
//	}
//	cfg := session.Config{}
//	metrics.Instrument(&cfg) // before session.New: the manager copies its Config
//	mgr, err := session.New(store, cfg)
//	...
//	metrics.WatchStore(store) // sessions_live, if the store can count
//
// CSRF and rate-limit refusals from other packages are counted with Rejected:
//
//	csrf.Options{OnReject: func(r *http.Request, err error) { metrics.Rejected(sessionprom.CSRFReason(err)) }}
//	ratelimit.Options{OnLimited: func(w http.ResponseWriter, r *http.Request, d ratelimit.Decision) {
//		metrics.Rejected(sessionprom.ReasonRateLimit)
//		http.Error(w, "Too Many Requests", http.StatusTooManyRequests)
//	}}
//
// # Metrics
//
// All names start with Options.Namespace ("sessionkit" by default):
//
//	sessions_created_total                    counter   new sessions stored
//	sessions_renewed_total                    counter   sessions moved to a new ID (login, privilege change)
//	sessions_destroyed_total                  counter   sessions ended by the app (logout)
//	sessions_expired_total                    counter   requests that came with a session past its deadline
//	sessions_revoked_total{cause}             counter   sessions ended server-side: cause="revoked" (a device, log out
//	                                                    everywhere, an admin) or "evicted" (MaxSessionsPerUser)
//	tokens_rejected_total{reason}             counter   tokens refused: reason="malformed" (never reached the store)
//	                                                    or "unknown" (well formed, no live session)
//	corrupt_records_total                     counter   stored records that could not be decoded and were replaced
//	cas_conflicts_total                       counter   commits that met a concurrent change and replayed
//	discarded_changes_total                   counter   requests whose changes were dropped because a logout won
//	touches_total                             counter   idle-deadline extensions written by read-only requests
//	client_changes_total                      counter   logged-in sessions used by a client that looks different
//	limit_rejections_total                    counter   logins refused by MaxSessionsPerUser (RefuseNew)
//	rejections_total{reason}                  counter   requests refused by CSRF protection or a rate limit (Rejected)
//	store_operation_duration_seconds{store,op} histogram latency of each store call, errors included
//	store_errors_total{store,op}              counter   store calls that failed (not found and version conflicts are
//	                                                    answers, not failures, and are not counted)
//	sessions_live{store}                      gauge     live sessions, tombstones not counted (WatchStore)
//
// The op label is one of load, commit, delete, touch, list, delete_subject
// and count, or "other" for an operation this version does not know.
//
// # Dashboard and alerts
//
// Beside this package's source, in the module's sessionprom folder, are
// alerts.yaml, Prometheus alerting rules (store errors and outages, store
// latency, CAS conflicts, session ID guessing, malformed cookies, spikes of
// client changes and of rejections, corrupt records, a missing
// sessions_live), and dashboard.json, a Grafana dashboard of every metric
// above. Both assume the default Namespace.
//
// Load the rules by copying alerts.yaml next to prometheus.yml, as
// sessionkit-alerts.yaml, naming it there, then reloading Prometheus (SIGHUP,
// or POST /-/reload with --web.enable-lifecycle):
//
//	rule_files:
//	  - sessionkit-alerts.yaml
//
// Each alert's comment explains its threshold; tune them to your traffic, and
// run promtool test rules rules_test.yaml after a change. Import the dashboard
// in Grafana with Dashboards, New, Import, and choose a Prometheus data source
// for its datasource variable; the job and store variables narrow it to one
// app or store.
//
// go test checks both files: promtool check rules and promtool test rules
// (each alert fires on some series and stays silent on others), and every
// metric name in a query against the names this package exports.
//
// # Security
//
// Label values come from small fixed sets and from Options.StoreName: a
// session ID, token, subject, client address or request path never becomes a
// label, so neither the cardinality of the metrics nor what they reveal grows
// with the traffic.
//
// # Concurrency
//
// A Metrics is safe for concurrent use; the hooks it installs run on the
// request's goroutine and cost a few atomic additions.
package sessionprom
