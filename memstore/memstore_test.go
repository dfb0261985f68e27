package memstore_test

import (
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/internal/storetest"
	"github.com/sessionkit/session/memstore"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) session.Store {
		s := memstore.New(memstore.Options{Now: now})
		t.Cleanup(func() { s.Close() })
		return s
	})
}
