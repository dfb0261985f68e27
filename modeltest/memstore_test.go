package modeltest

import (
	"testing"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
)

// TestModelMemstore runs the model against memstore, a new one per run.
func TestModelMemstore(t *testing.T) {
	c := &clock{}
	var s *memstore.Store
	t.Cleanup(func() {
		if s != nil {
			s.Close()
		}
	})
	fresh := func() (session.Store, error) {
		if s != nil {
			s.Close()
		}
		s = memstore.New(memstore.Options{Now: c.Now})
		return s, nil
	}
	runModel(t, env{clock: c, fresh: fresh}, budget{checks: 800, steps: 150})
}
