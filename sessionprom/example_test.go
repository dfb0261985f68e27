package sessionprom_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
	"github.com/sessionkit/session/sessionprom"
)

func ExampleMetrics_Instrument() {
	reg := prometheus.NewRegistry() // prometheus.DefaultRegisterer in an app
	metrics, err := sessionprom.New(reg, sessionprom.Options{StoreName: "memory"})
	if err != nil {
		panic(err)
	}
	store := memstore.New(memstore.Options{})
	defer store.Close()

	cfg := session.Config{}
	metrics.Instrument(&cfg) // before session.New, which copies cfg
	mgr, err := session.New(store, cfg)
	if err != nil {
		panic(err)
	}
	if err := metrics.WatchStore(store); err != nil {
		panic(err)
	}

	app := mgr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		session.Put(r.Context(), "theme", "dark")
	}))
	app.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "https://example.com/", nil))

	n, _ := testutil.GatherAndCount(reg, "sessionkit_sessions_created_total", "sessionkit_sessions_live")
	fmt.Println("series:", n)
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		switch mf.GetName() {
		case "sessionkit_sessions_created_total":
			fmt.Println("created:", mf.GetMetric()[0].GetCounter().GetValue())
		case "sessionkit_sessions_live":
			fmt.Println("live:", mf.GetMetric()[0].GetGauge().GetValue())
		}
	}
	// Output:
	// series: 2
	// created: 1
	// live: 1
}
