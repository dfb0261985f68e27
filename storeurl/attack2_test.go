package storeurl

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Redact promises to hide "every password=..." of a keyword/value DSN and
// "the whole value of a secret option, up to the next '&'". A keyword DSN
// value runs to the next space (libpq, pgx), but secretParam stops at '#',
// '&' or ';', so the rest of such a password is logged. In a URL query,
// redactQuery splits on ';' too, though the drivers split only on '&', and
// the part after a ';' in a password is logged.
func TestAttackRedactLeaksPasswordTail(t *testing.T) {
	for _, tc := range []struct{ in, tail string }{
		{"host=db user=app password=s3cr#etTAIL1 dbname=app", "etTAIL1"},
		{"host=db user=app password=s3cr&etTAIL2 dbname=app", "etTAIL2"},
		{"host=db user=app password=s3cr;etTAIL3 dbname=app", "etTAIL3"},
		{"postgres://h/db?password=s3cr;etTAIL4&sslmode=disable", "etTAIL4"},
	} {
		if c, err := pgxpool.ParseConfig(tc.in); err == nil && strings.HasPrefix(tc.in, "host=") && !strings.HasSuffix(c.ConnConfig.Password, tc.tail) {
			t.Fatalf("setup: pgx reads the password of %q as %q", tc.in, c.ConnConfig.Password)
		}
		if got := Redact(tc.in); strings.Contains(got, tc.tail) {
			t.Errorf("Redact(%q) = %q: part of the password is shown", tc.in, got)
		}
	}
}
