package reliability

import (
	"testing"
	"time"
)

// TestSoak runs the load of TestRedisOutage and TestPostgresTerminate side
// by side for SESSION_SOAK (a duration such as 2m), with an outage of Redis
// (killed, down one second, restarted) every three seconds and a
// termination of the PostgreSQL backends every second and a half, with the
// same checks after each fault. It is skipped when SESSION_SOAK is not set:
//
//	SESSION_SOAK=2m go test -race -count=1 -run '^TestSoak$' -timeout 15m -v ./internal/reliability/
func TestSoak(t *testing.T) {
	d := soakDuration(t)
	baseline := goroutines()
	until := time.Now().Add(d)
	t.Run("faults", func(t *testing.T) {
		t.Run("redis", func(t *testing.T) {
			t.Parallel()
			runRedis(t, redisPlan{clients: 16, before: 2 * time.Second, down: time.Second, after: 2500 * time.Millisecond, until: until})
		})
		t.Run("postgres", func(t *testing.T) {
			t.Parallel()
			runPostgres(t, pgPlan{clients: 16, before: 1500 * time.Millisecond, gap: 1500 * time.Millisecond, after: 2 * time.Second, until: until})
		})
	})
	checkLeaks(t, baseline)
}
