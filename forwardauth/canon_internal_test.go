package forwardauth

import "testing"

func TestCanonicalPath(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want "" means refused
	}{
		{"/", "/"},
		{"/admin", "/admin"},
		{"/admin/", "/admin"},
		{"/admin?x=../y", "/admin"},
		{"/admin#frag", "/admin"},
		{"/public/../admin", "/admin"},
		{"/admin/../public", "/public"},
		{"/%2e%2e/admin", "/admin"},
		{"/public/%2e%2e/admin", "/admin"},
		{"/public/%2E%2E/admin", "/admin"},
		{"/public/.%2e/admin", "/admin"},
		{"//admin", "/admin"},
		{"/public//..//admin", "/admin"},
		{"/./admin/./x", "/admin/x"},
		{"/../../admin", "/admin"},
		{"/admin;jsessionid=1", "/admin"},
		{"/public/..;/admin", "/admin"},
		{"/public;/../admin", "/admin"},
		{"/%61dmin", "/admin"},
		{"/caf%C3%A9", "/café"},
		{"/public/%2F../admin", ""},
		{"/public%2f..%2fadmin", ""},
		{"/public/%5C../admin", ""},
		{"/public\\..\\admin", ""},
		{"/public/%252e%252e/admin", ""},
		{"/admin%00", ""},
		{"/admin%0d%0aX: y", ""},
		{"/adm\tin", ""},
		{"/admin%", ""},
		{"/admin%zz", ""},
		{"admin", ""},
		{"", ""},
		{"*", ""},
		{"http://evil/admin", ""},
	} {
		got, err := canonicalPath(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("canonicalPath(%q) = %q, want refused", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("canonicalPath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestCanonicalHost(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"App.Example.COM", "app.example.com", true},
		{"app.example.com:8443", "app.example.com", true},
		{"app.example.com.", "app.example.com", true},
		{"[::1]:80", "[::1]", true},
		{"", "", false},
		{"evil.com/x", "", false},
		{"a b", "", false},
		{"[::1", "", false},
	} {
		got, ok := canonicalHost(tc.in)
		if ok != tc.ok || got != tc.want {
			t.Errorf("canonicalHost(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestRedirectTarget(t *testing.T) {
	r, err := newRedirects([]string{"app.example.com", "*.apps.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		rd string
		ok bool
	}{
		{"/", true},
		{"/app?x=1", true},
		{"https://app.example.com/x", true},
		{"https://APP.example.com:8443/x", true},
		{"https://a.apps.example.com/", true},
		{"https://apps.example.com/", false},
		{"http://app.example.com/x", false},
		{"https://evil.example", false},
		{"https://evil.example/?https://app.example.com", false},
		{"https://app.example.com.evil.example/", false},
		{"https://app.example.com@evil.example/", false},
		{"https://user:pw@app.example.com/", false},
		{"//evil.example", false},
		{"//evil.example/path", false},
		{"/\\evil.example", false},
		{"\\\\evil.example", false},
		{"/\t/evil.example", false},
		{"https:evil.example", false},
		{"https:/evil.example", false},
		{"javascript:alert(1)", false},
		{"data:text/html,x", false},
		{"evil.example", false},
		{"", false},
		{"https://app.example.com/\r\nSet-Cookie: x", false},
	} {
		if _, ok := r.target(tc.rd); ok != tc.ok {
			t.Errorf("target(%q) ok = %v, want %v", tc.rd, ok, tc.ok)
		}
	}
}
