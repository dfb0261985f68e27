package storeurl

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// hostsURL is a URL whose authority may list several hosts separated by
// commas, which net/url refuses.
type hostsURL struct {
	scheme   string
	user     *url.Userinfo // nil when the URL has none
	hosts    []string
	path     string // percent-decoded
	rawQuery string
	query    url.Values
}

// parseHosts parses scheme://[user[:password]@]host[,host...][/path][?query].
// Its errors never quote the URL, which holds a password.
func parseHosts(raw string) (*hostsURL, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, errors.New("want scheme://host")
	}
	u := &hostsURL{scheme: strings.ToLower(scheme)}
	// The userinfo ends at the last '@' of the authority, which ends at the
	// first '/', '?' or '#' after it.
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		user, err := parseUserinfo(authority[:at])
		if err != nil {
			return nil, err
		}
		u.user = user
		rest = rest[at+1:]
		authority = authority[at+1:]
	}
	for h := range strings.SplitSeq(authority, ",") {
		if h = strings.TrimSpace(h); h != "" {
			u.hosts = append(u.hosts, h)
		}
	}
	tail, err := url.Parse("x://h" + rest[len(authority):])
	if err != nil {
		return nil, fmt.Errorf("invalid path or query: %w", unquote(err))
	}
	u.path, u.rawQuery = tail.Path, tail.RawQuery
	if u.query, err = url.ParseQuery(tail.RawQuery); err != nil {
		return nil, fmt.Errorf("invalid query: %w", err)
	}
	return u, nil
}

// parseUserinfo decodes user[:password], percent-encoded.
func parseUserinfo(s string) (*url.Userinfo, error) {
	name, pass, hasPass := strings.Cut(s, ":")
	name, err1 := url.PathUnescape(name)
	pass, err2 := url.PathUnescape(pass)
	if err1 != nil || err2 != nil {
		// The error of PathUnescape quotes a piece of the password.
		return nil, errors.New("invalid percent-encoding in the user or password")
	}
	if hasPass {
		return url.UserPassword(name, pass), nil
	}
	return url.User(name), nil
}

// unquote drops the URL that a *url.Error quotes, since it may hold a
// password, and keeps what went wrong.
func unquote(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// withPort returns host with port added if it has none.
func withPort(host, port string) (string, error) {
	if h, p, err := net.SplitHostPort(host); err == nil {
		if h == "" || p == "" {
			return "", fmt.Errorf("invalid address %q", host)
		}
		if _, err := strconv.ParseUint(p, 10, 16); err != nil {
			return "", fmt.Errorf("invalid port in %q", host)
		}
		return host, nil
	}
	h := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if h == "" || strings.ContainsAny(h, "/[]@ ") {
		return "", fmt.Errorf("invalid address %q", host)
	}
	return net.JoinHostPort(h, port), nil
}

// withPorts applies withPort to each host.
func withPorts(hosts []string, port string) ([]string, error) {
	out := make([]string, len(hosts))
	for i, h := range hosts {
		var err error
		if out[i], err = withPort(h, port); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// options reads the query options of the schemes whose options this package
// defines; done reports any left unread, so a misspelled option is an error.
type options struct {
	q    url.Values
	seen map[string]bool
	err  error
}

func newOptions(q url.Values) *options { return &options{q: q, seen: map[string]bool{}} }

func (o *options) string(key string) string {
	o.seen[key] = true
	return o.q.Get(key)
}

func (o *options) duration(key string) time.Duration {
	v := o.string(key)
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err == nil && d <= 0 {
		err = errors.New("must be positive")
	}
	if err != nil && o.err == nil {
		o.err = fmt.Errorf("option %s=%q: want a duration such as 30s or 5m", key, v)
	}
	return d
}

func (o *options) int(key string) int {
	v := o.string(key)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if (err != nil || n <= 0) && o.err == nil {
		o.err = fmt.Errorf("option %s=%q: want a positive integer", key, v)
	}
	return n
}

func (o *options) done() error {
	if o.err != nil {
		return o.err
	}
	var unknown []string
	for k := range o.q {
		if !o.seen[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return fmt.Errorf("unknown option %s", strings.Join(unknown, ", "))
	}
	return nil
}
