package sessionprom_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
	"github.com/sessionkit/session/sessionprom"
)

// This file checks the files shipped beside the code: alerts.yaml,
// rules_test.yaml and dashboard.json. promtool checks the rules and runs
// their unit tests; the metric names of every query are checked against the
// names the code exports, so that renaming a metric fails here rather than
// in an operator's empty dashboard.

// promtool returns the path of promtool, from Debian's prometheus package
// (scripts/services.sh installs it). Without it the test is skipped, except
// under CI, where a skip would hide that the rules went unchecked.
func promtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("promtool not found on PATH (CI is set, so this is a failure): install Debian's prometheus package, as scripts/services.sh does: %v", err)
		}
		t.Skipf("promtool not found on PATH: install Debian's prometheus package (scripts/services.sh does) to check the rules: %v", err)
	}
	return path
}

func runPromtool(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), promtool(t), args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func TestAlertRulesCheck(t *testing.T) {
	runPromtool(t, "check", "rules", "alerts.yaml")
}

func TestAlertRulesUnitTests(t *testing.T) {
	t.Parallel() // the slowest here: some series span a day of samples
	runPromtool(t, "test", "rules", "rules_test.yaml")
}

// TestAlertRulesTested checks that rules_test.yaml has, for every alert of
// alerts.yaml, a case where it fires and a case where it stays silent, so a
// new alert cannot land untested.
func TestAlertRulesTested(t *testing.T) {
	alerts := yamlValues(t, "alerts.yaml", "alert")
	if len(alerts) == 0 {
		t.Fatal("no alert in alerts.yaml")
	}
	fires, silent := map[string]bool{}, map[string]bool{}
	name := ""
	for _, kv := range yamlKeys(t, "rules_test.yaml") {
		switch kv.key {
		case "alertname":
			name = kv.value
		case "exp_alerts":
			if name == "" {
				t.Fatalf("rules_test.yaml:%d: exp_alerts without alertname", kv.line)
			}
			if kv.value == "[]" {
				silent[name] = true
			} else {
				fires[name] = true
			}
			name = ""
		}
	}
	for _, a := range alerts {
		if !fires[a] {
			t.Errorf("rules_test.yaml has no case where %s fires", a)
		}
		if !silent[a] {
			t.Errorf("rules_test.yaml has no case where %s stays silent (exp_alerts: [])", a)
		}
	}
	for a := range fires {
		if !slices.Contains(alerts, a) {
			t.Errorf("rules_test.yaml tests %s, which alerts.yaml does not define", a)
		}
	}
}

// TestDashboardQueriesParse hands every query of the dashboard, with its
// Grafana variables filled in, to promtool as a recording rule, so that
// Prometheus's own parser checks their syntax.
func TestDashboardQueriesParse(t *testing.T) {
	bin := promtool(t)
	d := loadDashboard(t)
	var b strings.Builder
	b.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for i, q := range d.queries {
		if promQL(q.expr) == "" {
			continue
		}
		expr := grafanaVar.ReplaceAllStringFunc(promQL(q.expr), func(v string) string {
			switch strings.Trim(v, "${}") {
			case "__rate_interval", "__interval", "__range":
				return "5m"
			}
			return ".*"
		})
		quoted, _ := json.Marshal(expr) // a JSON string is a YAML double-quoted scalar
		fmt.Fprintf(&b, "      - record: dashboard:query_%d\n        expr: %s\n", i, quoted)
	}
	path := filepath.Join(t.TempDir(), "dashboard-queries.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(t.Context(), bin, "check", "rules", path).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules of the dashboard's queries: %v\n%s", err, out)
	}
}

// builtinMetrics are series that Prometheus makes, not the code: up from
// each scrape, ALERTS from the rules.
var builtinMetrics = map[string]bool{"up": true, "ALERTS": true}

// TestMetricNames checks that every metric a query of alerts.yaml or
// dashboard.json reads, and every series rules_test.yaml feeds the rules, is
// one the code exports.
func TestMetricNames(t *testing.T) {
	exported := exportedNames(t)
	check := func(where, expr string) {
		t.Helper()
		names, err := metricNames(expr)
		if err != nil {
			t.Errorf("%s: %v in %q", where, err, expr)
			return
		}
		if len(names) == 0 && !strings.HasPrefix(strings.TrimSpace(expr), "label_values(") {
			t.Errorf("%s: no metric name found in %q", where, expr)
		}
		for _, n := range slices.Compact(slices.Sorted(slices.Values(names))) {
			if !exported[n] && !builtinMetrics[n] {
				t.Errorf("%s: %s is not a metric sessionprom exports (in %q)", where, n, expr)
			}
		}
	}

	exprs := yamlValues(t, "alerts.yaml", "expr")
	alerts := yamlValues(t, "alerts.yaml", "alert")
	if len(exprs) != len(alerts) {
		t.Fatalf("alerts.yaml: %d exprs for %d alerts: the file has a shape yamlValues does not read", len(exprs), len(alerts))
	}
	for i, e := range exprs {
		check("alerts.yaml: "+alerts[i], e)
	}

	series := yamlValues(t, "rules_test.yaml", "series")
	if len(series) == 0 {
		t.Fatal("rules_test.yaml: no input series")
	}
	for _, s := range series {
		check("rules_test.yaml: series", s)
	}
	for _, e := range yamlValues(t, "rules_test.yaml", "expr") { // promql_expr_test, if any
		check("rules_test.yaml: expr", e)
	}

	d := loadDashboard(t)
	for _, q := range d.queries {
		check("dashboard.json: "+q.where, q.expr)
	}
	// The alerts the dashboard shows exist.
	for _, q := range d.queries {
		for _, m := range alertnameMatcher.FindAllStringSubmatch(q.expr, -1) {
			for _, a := range strings.Split(m[1], "|") {
				if !slices.Contains(alerts, a) {
					t.Errorf("dashboard.json: %s: alert %s is not in alerts.yaml", q.where, a)
				}
			}
		}
	}

	// Not a failure: a new metric may come before its panel.
	used := map[string]bool{}
	for _, q := range d.queries {
		names, _ := metricNames(q.expr)
		for _, n := range names {
			used[strings.TrimSuffix(strings.TrimSuffix(n, "_bucket"), "_count")] = true
		}
	}
	for n := range exported {
		if !used[n] && !strings.HasSuffix(n, "_bucket") && !strings.HasSuffix(n, "_count") && !strings.HasSuffix(n, "_sum") {
			t.Logf("dashboard.json shows no panel of %s", n)
		}
	}
}

var (
	grafanaVar       = regexp.MustCompile(`\$\{?\w+\}?`)
	alertnameMatcher = regexp.MustCompile(`alertname=~?"([^"]*)"`)
)

// exportedNames returns the names of the series the code exports with the
// default Options: every collector of New and WatchStore registered on a
// fresh registry, with events driven so that vectors have children, then
// gathered. A histogram exports its _bucket, _count and _sum series.
func exportedNames(t *testing.T) map[string]bool {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := sessionprom.New(reg, sessionprom.Options{StoreName: "memory"})
	if err != nil {
		t.Fatal(err)
	}
	store := memstore.New(memstore.Options{})
	t.Cleanup(func() { store.Close() })
	if err := m.WatchStore(store); err != nil {
		t.Fatal(err)
	}
	m.StoreOp(session.StoreOp{Op: "load", Duration: time.Millisecond})
	m.Event(session.Event{Kind: session.EventCreated})
	m.Rejected(sessionprom.ReasonRateLimit)

	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		n := mf.GetName()
		if mf.GetType().String() == "HISTOGRAM" {
			names[n+"_bucket"], names[n+"_count"], names[n+"_sum"] = true, true, true
			continue
		}
		names[n] = true
	}
	for _, want := range []string{"sessionkit_sessions_live", "sessionkit_store_operation_duration_seconds_bucket", "sessionkit_sessions_created_total"} {
		if !names[want] {
			t.Fatalf("Gather has no %s: exportedNames drives too little (got %v)", want, names)
		}
	}
	return names
}

// metricNames returns the metric names an expression of PromQL reads: the
// identifiers outside label matchers {...}, ranges [...] and strings that are
// not a function or aggregation (followed by "("), a keyword, or a label
// list of by, without, on, ignoring, group_left or group_right. Grafana's
// variables ($job, ${datasource}) are skipped, and a template query reads the
// names of its expr (see promQL).
func metricNames(expr string) ([]string, error) {
	var names []string
	s := promQL(expr)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			end, err := skipString(s, i)
			if err != nil {
				return nil, err
			}
			i = end
		case c == '{' || c == '[':
			end, err := skipGroup(s, i)
			if err != nil {
				return nil, err
			}
			i = end
		case c == '$':
			i++
			if i < len(s) && s[i] == '{' {
				end := strings.IndexByte(s[i:], '}')
				if end < 0 {
					return nil, fmt.Errorf("unterminated ${ at %d", i)
				}
				i += end + 1
				continue
			}
			for i < len(s) && isIdent(s[i]) {
				i++
			}
		case c >= '0' && c <= '9' || c == '.':
			// A number or a duration (0.99, 1e-3, 15m, 1h30m).
			for i < len(s) && (isIdent(s[i]) || s[i] == '.' || (s[i] == '-' || s[i] == '+') && (s[i-1] == 'e' || s[i-1] == 'E')) {
				i++
			}
		case isIdentStart(c):
			j := i
			for j < len(s) && isIdent(s[j]) {
				j++
			}
			ident := s[i:j]
			i = j
			for j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n') {
				j++
			}
			next := byte(0)
			if j < len(s) {
				next = s[j]
			}
			switch strings.ToLower(ident) {
			case "by", "without", "on", "ignoring", "group_left", "group_right":
				if next == '(' {
					end, err := skipGroup(s, j)
					if err != nil {
						return nil, err
					}
					i = end
				}
				continue
			case "bool", "and", "or", "unless", "offset", "atan2", "inf", "nan":
				continue
			}
			if next == '(' {
				continue // a function or an aggregation
			}
			if aggregations[ident] && (hasWordAt(s, j, "by") || hasWordAt(s, j, "without")) {
				continue // an aggregation with its modifier first: sum by (job) (...)
			}
			names = append(names, ident)
		default:
			i++
		}
	}
	return names, nil
}

// aggregations are PromQL's aggregation operators, which may take their
// by or without clause before their parentheses.
var aggregations = map[string]bool{
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true,
	"count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true,
	"limitk": true, "limit_ratio": true,
}

// hasWordAt reports whether the identifier at s[i] is word.
func hasWordAt(s string, i int, word string) bool {
	rest, ok := strings.CutPrefix(s[i:], word)
	return ok && (rest == "" || !isIdent(rest[0]))
}

// promQL returns the PromQL of a query of the dashboard: the query itself,
// or the expr of Grafana's template query label_values(expr, label), or ""
// for label_values(label), which reads no metric.
func promQL(q string) string {
	inner, ok := strings.CutPrefix(strings.TrimSpace(q), "label_values(")
	if !ok {
		return q
	}
	i := strings.LastIndexByte(inner, ',')
	if i < 0 {
		return ""
	}
	return inner[:i]
}

func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isIdent(c byte) bool { return isIdentStart(c) || '0' <= c && c <= '9' }

// skipString returns the index just past the string literal at s[i].
func skipString(s string, i int) (int, error) {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch {
		case s[j] == '\\' && q != '`':
			j++
		case s[j] == q:
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("unterminated string at %d", i)
}

// skipGroup returns the index just past the bracket that closes s[i] ("{",
// "[" or "("), skipping strings inside.
func skipGroup(s string, i int) (int, error) {
	open := s[i]
	close := map[byte]byte{'{': '}', '[': ']', '(': ')'}[open]
	depth := 0
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '"', '\'', '`':
			end, err := skipString(s, j)
			if err != nil {
				return 0, err
			}
			j = end - 1
		case open:
			depth++
		case close:
			if depth--; depth == 0 {
				return j + 1, nil
			}
		}
	}
	return 0, fmt.Errorf("unclosed %c at %d", open, i)
}

func TestMetricNamesTokenizer(t *testing.T) {
	tests := []struct {
		name, expr string
		want       []string
	}{
		{"selector", `sessionkit_sessions_live{job=~"$job", store="a{b}"}`, []string{"sessionkit_sessions_live"}},
		{"functions and labels", `histogram_quantile(0.99, sum by (job, le) (rate(m_bucket{op!="count"}[5m])))`, []string{"m_bucket"}},
		{"aggregation before", `count without (instance) (sum by (job) (a))`, []string{"a"}},
		{"aggregation after", `sum(rate(a_total[$__rate_interval])) without (instance) / on (job) group_left (store) b`, []string{"a_total", "b"}},
		{"set operators and offset", `a > 1 and b offset 15m unless on (job, instance) (up == 1)`, []string{"a", "b", "up"}},
		{"numbers", `a > 1e-3 or b < 2.5 * c`, []string{"a", "b", "c"}},
		{"bare name", `up`, []string{"up"}},
		{"template query", `label_values(sessionkit_store_errors_total{job=~"$job"}, store)`, []string{"sessionkit_store_errors_total"}},
		{"template query of a label", `label_values(job)`, nil},
		{"recording rule", `job:errors:rate5m > 0`, []string{"job:errors:rate5m"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := metricNames(tt.expr)
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("metricNames(%q) = %q, %v; want %q", tt.expr, got, err, tt.want)
			}
		})
	}
	for _, bad := range []string{`a{job="x"`, `rate(a[5m)`, `a{job="x}`} {
		if _, err := metricNames(bad); err == nil {
			t.Errorf("metricNames(%q): no error", bad)
		}
	}
}

// yamlKey is one "key: value" line of a YAML file.
type yamlKey struct {
	line       int
	key, value string
}

// yamlKeys reads the keys of a YAML file written the way alerts.yaml and
// rules_test.yaml are: one "key: value" a line, a list item's first key after
// "- ", values plain, single- or double-quoted, or a block ("key: |") of the
// lines indented deeper than the key. It is no YAML parser (sessionprom has
// no YAML dependency, and a test should not add one); promtool, which reads
// the same files, fails on what this would misread.
func yamlKeys(t *testing.T, path string) []yamlKey {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	indent := func(l string) int { return len(l) - len(strings.TrimLeft(l, " ")) }
	var keys []yamlKey
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		body := strings.TrimSpace(l)
		if body == "" || strings.HasPrefix(body, "#") {
			continue
		}
		body = strings.TrimPrefix(body, "- ")
		key, value, ok := strings.Cut(body, ":")
		if !ok || strings.ContainsAny(key, ` "'{`) {
			continue
		}
		value = strings.TrimSpace(value)
		switch {
		case value == "|" || value == "|-" || value == ">" || value == ">-":
			var block []string
			for i+1 < len(lines) && (strings.TrimSpace(lines[i+1]) == "" || indent(lines[i+1]) > indent(l)) {
				i++
				block = append(block, strings.TrimSpace(lines[i]))
			}
			value = strings.TrimSpace(strings.Join(block, "\n"))
		case strings.HasPrefix(value, "'"):
			if !strings.HasSuffix(value, "'") || len(value) < 2 {
				t.Fatalf("%s:%d: a single-quoted value must end on its line", path, i+1)
			}
			value = strings.ReplaceAll(value[1:len(value)-1], "''", "'")
		case strings.HasPrefix(value, `"`):
			v, err := strconv.Unquote(value)
			if err != nil {
				t.Fatalf("%s:%d: double-quoted value: %v", path, i+1, err)
			}
			value = v
		default:
			if c := strings.Index(value, " #"); c >= 0 {
				value = strings.TrimSpace(value[:c])
			}
		}
		keys = append(keys, yamlKey{line: i + 1, key: key, value: value})
	}
	return keys
}

// yamlValues returns the values of every key named key in path.
func yamlValues(t *testing.T, path, key string) []string {
	t.Helper()
	var out []string
	for _, kv := range yamlKeys(t, path) {
		if kv.key == key {
			out = append(out, kv.value)
		}
	}
	return out
}

// dashboard is what the tests need of dashboard.json.
type dashboard struct {
	queries []query
}

type query struct {
	where, expr string
}

// loadDashboard reads dashboard.json, checks its shape (the ${datasource}
// variable, a datasource and a query on every panel, unique panel ids) and
// returns its queries: the targets of the panels and the template variables.
func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	data, err := os.ReadFile("dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	type target struct {
		RefID      string         `json:"refId"`
		Expr       string         `json:"expr"`
		Datasource map[string]any `json:"datasource"`
	}
	type panel struct {
		ID         int            `json:"id"`
		Type       string         `json:"type"`
		Title      string         `json:"title"`
		Datasource map[string]any `json:"datasource"`
		Targets    []target       `json:"targets"`
		Panels     []panel        `json:"panels"` // a collapsed row's
	}
	var raw struct {
		SchemaVersion int     `json:"schemaVersion"`
		UID           string  `json:"uid"`
		Panels        []panel `json:"panels"`
		Templating    struct {
			List []struct {
				Type       string          `json:"type"`
				Name       string          `json:"name"`
				Query      json.RawMessage `json:"query"`
				Datasource map[string]any  `json:"datasource"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatalf("dashboard.json: %v", err)
	}
	if raw.SchemaVersion < 36 || raw.UID == "" {
		t.Errorf("dashboard.json: schemaVersion %d, uid %q; want a schemaVersion of Grafana 9 or later and a uid", raw.SchemaVersion, raw.UID)
	}
	const dsUID = "${datasource}"
	isOurs := func(ds map[string]any) bool { return ds["type"] == "prometheus" && ds["uid"] == dsUID }

	var d dashboard
	hasDatasource := false
	for _, v := range raw.Templating.List {
		switch v.Type {
		case "datasource":
			var q string
			if v.Name == "datasource" && json.Unmarshal(v.Query, &q) == nil && q == "prometheus" {
				hasDatasource = true
			}
		case "query":
			if !isOurs(v.Datasource) {
				t.Errorf("dashboard.json: variable %s: datasource %v, want the %s variable", v.Name, v.Datasource, dsUID)
			}
			var q struct {
				Query string `json:"query"`
			}
			var s string
			switch {
			case json.Unmarshal(v.Query, &s) == nil:
			case json.Unmarshal(v.Query, &q) == nil:
				s = q.Query
			}
			if s == "" {
				t.Errorf("dashboard.json: variable %s has no query", v.Name)
				continue
			}
			d.queries = append(d.queries, query{"variable " + v.Name, s})
		}
	}
	if !hasDatasource {
		t.Errorf("dashboard.json: no datasource variable named datasource of type prometheus")
	}

	ids := map[int]string{}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if prev, dup := ids[p.ID]; dup || p.ID == 0 {
				t.Errorf("dashboard.json: panel %q has id %d, as %q does", p.Title, p.ID, prev)
			}
			ids[p.ID] = p.Title
			if p.Type == "row" {
				walk(p.Panels)
				continue
			}
			if !isOurs(p.Datasource) {
				t.Errorf("dashboard.json: panel %q: datasource %v, want the %s variable", p.Title, p.Datasource, dsUID)
			}
			if len(p.Targets) == 0 {
				t.Errorf("dashboard.json: panel %q has no query", p.Title)
			}
			for _, tg := range p.Targets {
				if tg.Expr == "" || !isOurs(tg.Datasource) {
					t.Errorf("dashboard.json: panel %q, query %s: expr %q, datasource %v", p.Title, tg.RefID, tg.Expr, tg.Datasource)
				}
				d.queries = append(d.queries, query{fmt.Sprintf("panel %q query %s", p.Title, tg.RefID), tg.Expr})
			}
		}
	}
	walk(raw.Panels)
	if len(d.queries) < 10 {
		t.Fatalf("dashboard.json: %d queries found; the dashboard or this reader is broken", len(d.queries))
	}
	return d
}
