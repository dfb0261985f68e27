package main

import (
	"bytes"
	"context"
	"io/fs"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestDemoPasswords(t *testing.T) {
	tests := []struct {
		name, user, password string
		want                 string // user name, or "" for refused
	}{
		{"alice", "alice", "wonderland", "alice"},
		{"bob", "bob", "builder", "bob"},
		{"name is case-insensitive", " Alice ", "wonderland", "alice"},
		{"wrong password", "alice", "builder", ""},
		{"password is case-sensitive", "bob", "Builder", ""},
		{"empty password", "bob", "", ""},
		{"unknown user", "carol", "wonderland", ""},
		{"unknown user, empty", "", "", ""},
		{"too long", "alice", "wonderland" + strings.Repeat("x", maxPasswordLen), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := authenticate(tt.user, tt.password)
			got := ""
			if u != nil {
				got = u.Name
			}
			if got != tt.want {
				t.Errorf("authenticate(%q, %q) = %q, want %q", tt.user, tt.password, got, tt.want)
			}
		})
	}
	if !users["alice"].Admin() || users["bob"].Admin() {
		t.Error("alice must be the admin, bob a customer")
	}
}

// TestTranslationsComplete checks that every language has every message,
// and that every key the templates and handlers use exists.
func TestTranslationsComplete(t *testing.T) {
	for _, lang := range languages {
		msgs, ok := messages[lang.Code]
		if !ok {
			t.Fatalf("no messages for %s", lang.Code)
		}
		for key, en := range messages["en"] {
			tr, ok := msgs[key]
			if !ok {
				t.Errorf("%s: no translation of %q", lang.Code, key)
			}
			if strings.Count(tr, "%") != strings.Count(en, "%") {
				t.Errorf("%s: %q has other verbs than in English: %q vs %q", lang.Code, key, tr, en)
			}
		}
		for key := range msgs {
			if _, ok := messages["en"][key]; !ok {
				t.Errorf("%s: %q is not an English key", lang.Code, key)
			}
		}
	}
	if len(messages) != len(languages) {
		t.Errorf("%d message tables for %d languages", len(messages), len(languages))
	}

	used := map[string]bool{}
	keyRE := regexp.MustCompile(`"((?:site|nav|footer|catalog|cart|flash|login|prefs|checkout|order|devices|admin|error|activity|kind)\.[a-z_.]*[a-z_])"`)
	scan := func(name string, data []byte) {
		for _, m := range keyRE.FindAllSubmatch(data, -1) {
			used[string(m[1])] = true
		}
	}
	fs.WalkDir(templateFS, ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(templateFS, path)
			scan(path, b)
		}
		return nil
	})
	goFiles, _ := fs.Glob(os.DirFS("."), "*.go")
	for _, f := range goFiles {
		if strings.HasSuffix(f, "_test.go") || f == "i18n.go" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		scan(f, b)
	}
	for _, p := range products {
		used[p.NameKey()], used[p.DescKey()] = true, true
	}
	for _, o := range append(append([]option{}, deliveries...), payments...) {
		used["checkout."+o.ID] = true
	}
	for _, k := range activityKinds {
		used["kind."+string(k)] = true
	}
	for _, th := range themes {
		used["prefs.theme."+th] = true
	}
	if len(used) < 50 {
		t.Fatalf("found only %d message keys in use: the scan is broken", len(used))
	}
	for key := range used {
		if _, ok := messages["en"][key]; !ok {
			t.Errorf("%q is used but has no message", key)
		}
	}
}

func TestTemplatesRender(t *testing.T) {
	pages, err := parseTemplates()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"catalog", "cart", "login", "prefs", "checkout1", "checkout2", "checkout3", "review", "order", "devices", "admin", "activity", "error"} {
		if pages[name] == nil {
			t.Errorf("no template %s", name)
		}
	}
}

func TestSafeNext(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "/"},
		{"/cart", "/cart"},
		{"/account/sessions?tab=1", "/account/sessions?tab=1"},
		{"//evil.example", "/"},
		{"/\\evil.example", "/"},
		{"https://evil.example/", "/"},
		{"javascript:alert(1)", "/"},
		{"cart", "/"},
		{"/a\r\nSet-Cookie: x=y", "/"},
	}
	for _, tt := range tests {
		if got := safeNext(tt.in); got != tt.want {
			t.Errorf("safeNext(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSummarizeUA(t *testing.T) {
	tests := []struct{ ua, want string }{
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome 131 on Linux"},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/142.0.0.0 Safari/537.36", "Headless Chrome 142 on Linux"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox 128 on Windows"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari 17 on iPhone"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge 131 on Windows"},
		{"curl/8.5.0", "curl 8"},
		{"Go-http-client/1.1", "Go HTTP client 1"},
		{"", "unknown client"},
	}
	for _, tt := range tests {
		if got := summarizeUA(tt.ua); got != tt.want {
			t.Errorf("summarizeUA(%q) = %q, want %q", tt.ua, got, tt.want)
		}
	}
}

func TestNegotiateLanguage(t *testing.T) {
	tests := []struct{ header, want string }{
		{"", "en"},
		{"fr-CH, fr;q=0.9, en;q=0.8", "fr"},
		{"es, de;q=0.5", "de"},
		{"ja", "en"},
		{"DE-at", "de"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Language", tt.header)
		if got := negotiateLanguage(r); got != tt.want {
			t.Errorf("Accept-Language %q: %s, want %s", tt.header, got, tt.want)
		}
	}
}

func TestFormatPrice(t *testing.T) {
	for _, tt := range []struct {
		lang  string
		cents int
		want  string
	}{{"en", 3140, "€31.40"}, {"fr", 3140, "31,40\u00a0€"}, {"de", 5, "0,05\u00a0€"}} {
		if got := formatPrice(tt.lang, tt.cents); got != tt.want {
			t.Errorf("formatPrice(%s, %d) = %q, want %q", tt.lang, tt.cents, got, tt.want)
		}
	}
}

// TestRunErrors checks that bad command lines fail at once, with a message
// that names the problem and never a password.
func TestRunErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"-nope"}, "flag provided but not defined"},
		{"argument", []string{"extra"}, "unexpected arguments"},
		{"bad store", []string{"-store", "nosuch://x"}, "unknown scheme"},
		{"idle beyond absolute", []string{"-store", "memory:", "-idle-timeout", "2h", "-absolute-timeout", "1h"}, "IdleTimeout"},
		{"negative timeout", []string{"-idle-timeout", "-1s"}, "must be positive"},
		{"bad ratelimit store", []string{"-store", "memory:", "-ratelimit-store", "postgres://u:s3cret@h/db"}, "want memory: or redis://"},
		{"unreachable redis", []string{"-store", "memory:", "-ratelimit-store", "redis://:s3cret@127.0.0.1:1/0"}, "ping"},
		{"bad address", []string{"-store", "memory:", "-addr", "256.0.0.1:99999"}, "listen"},
		{"bad log level", []string{"-log-level", "loud"}, "log-level"},
		{"bad client change", []string{"-client-change", "maybe"}, "want log, reauth or destroy"},
		{"negative cap", []string{"-max-sessions", "-1"}, "-max-sessions must be 0"},
		{"bad cap policy", []string{"-max-sessions-policy", "lru"}, "want evict-oldest or refuse-new"},
		{"bad trusted proxy", []string{"-trusted-proxies", "10.0.0.0/8,nonsense"}, "trusted proxy \"nonsense\""},
		{"bad proxy header", []string{"-proxy-header", "X-Real-IP"}, "want x-forwarded-for or forwarded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var stdout, stderr bytes.Buffer
			err := Run(ctx, tt.args, &stdout, &stderr)
			if err == nil {
				t.Fatalf("Run(%q) = nil, want an error", tt.args)
			}
			msg := err.Error() + stderr.String()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("Run(%q) = %v (stderr %q), want it to mention %q", tt.args, err, stderr.String(), tt.want)
			}
			if strings.Contains(msg, "s3cret") {
				t.Errorf("the error shows the password: %v", err)
			}
			if stdout.Len() > 0 {
				t.Errorf("stdout: %q, want nothing", stdout.String())
			}
		})
	}
}

func TestHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := Run(context.Background(), []string{"-h"}, &stdout, &stderr); err != nil {
		t.Fatalf("-h: %v", err)
	}
	for _, flag := range []string{"-addr", "-store", "-ratelimit-store", "-idle-timeout", "-absolute-timeout", "-insecure-cookie", "-recent-auth", "-client-change", "-max-sessions", "-max-sessions-policy", "-trusted-proxies", "-proxy-header", "-remember-idle-timeout", "-remember-absolute-timeout", "alice / wonderland"} {
		if !strings.Contains(stderr.String(), flag) {
			t.Errorf("usage lacks %s:\n%s", flag, stderr.String())
		}
	}
}
