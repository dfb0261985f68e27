package storeurl

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

// driverSecret returns the password that the driver (or this package's own
// parser) reads from rawURL, so that a case proves the secret is live and not
// just a string Redact happens to hide.
func driverSecret(t *testing.T, rawURL string) []string {
	t.Helper()
	scheme, _, _ := strings.Cut(rawURL, ":")
	switch strings.ToLower(scheme) {
	case "redis", "rediss":
		o, err := redis.ParseURL(rawURL)
		if err != nil {
			t.Fatalf("redis.ParseURL: %v", err)
		}
		return []string{o.Password}
	case "redis-sentinel", "rediss-sentinel":
		o, err := redisSentinelOptions(rawURL)
		if err != nil {
			t.Fatalf("redisSentinelOptions: %v", err)
		}
		return []string{o.Password, o.SentinelPassword}
	case "redis-cluster", "rediss-cluster":
		o, err := redisClusterOptions(rawURL)
		if err != nil {
			t.Fatalf("redisClusterOptions: %v", err)
		}
		return []string{o.Password}
	case "postgres", "postgresql":
		c, err := pgxpool.ParseConfig(rawURL)
		if err != nil {
			t.Fatalf("pgxpool.ParseConfig: %v", err)
		}
		return []string{c.ConnConfig.Password}
	case "mysql", "mariadb":
		c, err := mysqlConfig(rawURL)
		if err != nil {
			t.Fatalf("mysqlConfig: %v", err)
		}
		return []string{c.Passwd}
	}
	t.Fatalf("no driver for %q", scheme)
	return nil
}

// TestRedactDecodedNames: an option name is hidden as the driver reads it,
// percent-decoded, in any case. Each live case first checks that the
// driver does read the secret from the URL, then that Redact hides it.
func TestRedactDecodedNames(t *testing.T) {
	const secret = "S3CRET"
	for _, tc := range []struct {
		name string
		url  string
		want string // "" means: only check that the secret is gone
		live bool   // the driver reads secret from url
	}{
		// Userinfo, every scheme that has one.
		{name: "redis userinfo", url: "redis://u:S3CRET@h:6379/0", want: "redis://u:xxxxx@h:6379/0", live: true},
		{name: "redis userinfo, encoded", url: "redis://u:%53%33CRET@h/0", want: "redis://u:xxxxx@h/0"},
		{name: "rediss userinfo", url: "rediss://:S3CRET@h", want: "rediss://:xxxxx@h", live: true},
		{name: "sentinel userinfo", url: "redis-sentinel://u:S3CRET@s1,s2/0?master=m", want: "redis-sentinel://u:xxxxx@s1,s2/0?master=m", live: true},
		{name: "cluster userinfo", url: "redis-cluster://u:S3CRET@n1,n2", want: "redis-cluster://u:xxxxx@n1,n2", live: true},
		{name: "postgres userinfo", url: "postgres://u:S3CRET@h/db", want: "postgres://u:xxxxx@h/db", live: true},
		{name: "postgresql userinfo, '@' in it", url: "postgresql://u:S3CRET@x@h/db", want: "postgresql://u:xxxxx@h/db"},
		{name: "mysql userinfo", url: "mysql://u:S3CRET@h/db", want: "mysql://u:xxxxx@h/db", live: true},
		{name: "mariadb userinfo", url: "mariadb://u:S3CRET@h/db", want: "mariadb://u:xxxxx@h/db", live: true},

		// Query options, plain, then percent-encoded and in other cases.
		{name: "postgres password", url: "postgres://u@h/db?password=S3CRET", want: "postgres://u@h/db?password=xxxxx", live: true},
		{name: "postgres p%61ssword", url: "postgres://u@h/db?p%61ssword=S3CRET", want: "postgres://u@h/db?p%61ssword=xxxxx", live: true},
		{name: "postgres fully encoded", url: "postgres://u@h/db?%70%61%73%73%77%6F%72%64=S3CRET", want: "postgres://u@h/db?%70%61%73%73%77%6F%72%64=xxxxx", live: true},
		{name: "postgres upper-case escape", url: "postgres://u@h/db?PASS%57ORD=S3CRET&sslmode=disable", want: "postgres://u@h/db?PASS%57ORD=xxxxx&sslmode=disable"},
		{name: "postgres upper case", url: "postgres://u@h/db?PASSWORD=S3CRET", want: "postgres://u@h/db?PASSWORD=xxxxx"},
		{name: "postgres after other options", url: "postgres://u@h/db?sslmode=disable&pass%77ord=S3CRET&application_name=x", want: "postgres://u@h/db?sslmode=disable&pass%77ord=xxxxx&application_name=x", live: true},
		{name: "postgres sslpassword encoded", url: "postgres://u@h/db?sslp%61ssword=S3CRET", want: "postgres://u@h/db?sslp%61ssword=xxxxx"},
		{name: "postgres double encoded", url: "postgres://u@h/db?p%2561ssword=S3CRET", want: "postgres://u@h/db?p%2561ssword=xxxxx"},
		{name: "postgres broken escape", url: "postgres://u@h/db?p%zzassword=S3CRET", want: "postgres://u@h/db?p%zzassword=xxxxx"},
		{name: "postgres escape cut short", url: "postgres://u@h/db?password%4=S3CRET", want: "postgres://u@h/db?password%4=xxxxx"},
		{name: "sentinel password", url: "redis-sentinel://s1?master=m&password=S3CRET", want: "redis-sentinel://s1?master=m&password=xxxxx", live: true},
		{name: "sentinel p%61ssword", url: "redis-sentinel://s1?master=m&p%61ssword=S3CRET", want: "redis-sentinel://s1?master=m&p%61ssword=xxxxx", live: true},
		{name: "sentinel_password", url: "redis-sentinel://s1?master=m&sentinel_password=S3CRET", want: "redis-sentinel://s1?master=m&sentinel_password=xxxxx", live: true},
		{name: "sentinel_p%61ssword", url: "redis-sentinel://s1?master=m&sentinel_p%61ssword=S3CRET", want: "redis-sentinel://s1?master=m&sentinel_p%61ssword=xxxxx", live: true},
		{name: "sentinel %73entinel_password", url: "rediss-sentinel://s1/1?%73entinel_password=S3CRET&master=m", want: "rediss-sentinel://s1/1?%73entinel_password=xxxxx&master=m", live: true},
		{name: "sentinel SENTINEL_PASSWORD", url: "redis-sentinel://s1?master=m&SENTINEL_PASSWORD=S3CRET", want: "redis-sentinel://s1?master=m&SENTINEL_PASSWORD=xxxxx"},
		{name: "plus in the name", url: "redis-sentinel://s1?master=m&pass+word=S3CRET", want: "redis-sentinel://s1?master=m&pass+word=xxxxx"},
		{name: "mysql query option", url: "mysql://u@h/db?p%61sswd=S3CRET&timeout=1s", want: "mysql://u@h/db?p%61sswd=xxxxx&timeout=1s"},
		{name: "token", url: "memcached://c1?auth_t%6Fken=S3CRET", want: "memcached://c1?auth_t%6Fken=xxxxx"},
		{name: "semicolon separated", url: "postgres://h/db?sslmode=disable;p%61ssword=S3CRET", want: "postgres://h/db?sslmode=disable;p%61ssword=xxxxx"},
		{name: "secret value with '#'", url: "postgres://h/db?password=S3C#RET&sslmode=disable", want: "postgres://h/db?password=xxxxx&sslmode=disable"},
		{name: "option after a '#'", url: "postgres://h/db?sslmode=disable#password=S3CRET", want: "postgres://h/db?sslmode=disable#password=xxxxx"},
		{name: "scheme in upper case", url: "POSTGRES://u@h/db?P%61ssword=S3CRET", want: "POSTGRES://u@h/db?P%61ssword=xxxxx"},

		// DSNs that are not URLs.
		{name: "go-sql-driver DSN option", url: "u@tcp(h)/db?p%61ssword=S3CRET", want: "xxxxx@tcp(h)/db?p%61ssword=xxxxx"},
		{name: "keyword DSN", url: "host=h PASSWORD=S3CRET", want: "host=h PASSWORD=xxxxx"},

		// Names that only look alike keep their value.
		{name: "harmless option", url: "postgres://h/db?sslmode=require&p%61th=x", want: "postgres://h/db?sslmode=require&p%61th=x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.live {
				found := false
				for _, s := range driverSecret(t, tc.url) {
					found = found || s == secret
				}
				if !found {
					t.Fatalf("the driver does not read %q from %q: the case tests nothing", secret, tc.url)
				}
			}
			got := Redact(tc.url)
			if strings.Contains(got, "S3C") || strings.Contains(got, "RET") {
				t.Fatalf("Redact(%q) = %q: shows the secret", tc.url, got)
			}
			if tc.want != "" && got != tc.want {
				t.Fatalf("Redact(%q) = %q; want %q", tc.url, got, tc.want)
			}
		})
	}
}

func TestIsSecretName(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"password", true}, {"PassWord", true}, {"p%61ssword", true}, {"P%41SSWORD", true},
		{"%70%61%73%73%77%6f%72%64", true}, {"p%2561ssword", true}, {"sentinel_password", true},
		{"sslkey", true}, {"api_t%4Fken", true}, {"paſsword", true},
		{"p%2525252561ssword", true},                      // still decoding after four rounds
		{"p%zzassword", true}, {"%", true}, {"%25", true}, // a broken escape, at once or once decoded
		{"sslmode", false}, {"master", false}, {"p%61th", false}, {"%41%42", false}, {"", false},
	} {
		if got := isSecretName(tc.name); got != tc.want {
			t.Errorf("isSecretName(%q) = %v; want %v", tc.name, got, tc.want)
		}
	}
}
