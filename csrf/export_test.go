package csrf

import "time"

// SetClock makes p read the time from now, for tests of token lifetimes.
func SetClock(p *Protection, now func() time.Time) {
	p.now = now
	p.inContext = true
}
