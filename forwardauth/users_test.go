package forwardauth_test

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/sessionkit/session/forwardauth"
)

func TestHashPasswordArgon2id(t *testing.T) {
	hash, err := forwardauth.HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q", hash)
	}
	other, _ := forwardauth.HashPassword("correct horse")
	if other == hash {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	users, err := forwardauth.ParseUsers(strings.NewReader(forwardauth.FormatUserLine(
		forwardauth.User{Name: "carol", Groups: []string{"ops"}, Email: "carol@example.com"}, hash)), "users")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := users.Authenticate("carol", "correct horse"); !ok {
		t.Error("right password refused")
	}
	if _, ok := users.Authenticate("carol", "correct horse "); ok {
		t.Error("wrong password accepted")
	}
	if _, ok := users.Authenticate("nobody", "correct horse"); ok {
		t.Error("unknown user accepted")
	}
	u, ok := users.Lookup("carol")
	if !ok || u.Email != "carol@example.com" || !u.InGroup("ops") || u.InGroup("admins") {
		t.Errorf("Lookup = %+v, %v", u, ok)
	}
}

func TestUsersFile(t *testing.T) {
	bc, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	ok := string(bc)
	htpasswdY := strings.Replace(ok, "$2a$", "$2y$", 1) // htpasswd -B writes $2y$
	for _, tc := range []struct {
		name, file, err string
	}{
		{"htpasswd line", "bob:" + htpasswdY + "\n", ""},
		{"comments and blanks", "# users\n\n  alice:" + ok + ":admins,dev:a@example.com  \n", ""},
		{"empty groups with e-mail", "alice:" + ok + "::a@example.com\n", ""},
		{"plain text password", "alice:secret\n", "unsupported password hash"},
		{"md5 htpasswd", "alice:$apr1$abc$def\n", "unsupported password hash"},
		{"duplicate", "alice:" + ok + "\nalice:" + ok + "\n", "users:2: user \"alice\" listed twice"},
		{"bad name", "al ice:" + ok + "\n", "users:1: user name"},
		{"bad group", "alice:" + ok + ":adm ins\n", "group \"adm ins\""},
		{"too many fields", "alice:" + ok + ":g:e:x\n", "want name:hash"},
		{"argon2 out of bounds", "alice:$argon2id$v=19$m=99999999,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA\n", "out of bounds"},
		{"argon2 wrong version", "alice:$argon2id$v=16$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA\n", "version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := forwardauth.ParseUsers(strings.NewReader(tc.file), "users")
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v, want one containing %q", err, tc.err)
			}
			if (strings.HasPrefix(tc.name, "argon2") || strings.Contains(tc.err, "password hash")) && !errors.Is(err, forwardauth.ErrBadHash) {
				t.Errorf("err = %v, want ErrBadHash", err)
			}
		})
	}
}

func TestOptionsValidated(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts forwardauth.Options
		err  string
	}{
		{"groups on an anonymous rule", forwardauth.Options{Rules: []forwardauth.Rule{{Path: "/x", Access: forwardauth.Anonymous, Groups: []string{"a"}}}}, "groups need access authenticated"},
		{"rule path not canonical", forwardauth.Options{Rules: []forwardauth.Rule{{Path: "/a/../b"}}}, "canonical path"},
		{"rule host with a path", forwardauth.Options{Rules: []forwardauth.Rule{{Host: "a.example/b"}}}, "host"},
		{"trust everyone", forwardauth.Options{TrustedProxies: mustPrefixes(t, "0.0.0.0/0")}, "trusts every address"},
		{"duplicate header", forwardauth.Options{Headers: forwardauth.Headers{User: "X-A", Groups: "x-a"}}, "used twice"},
		{"bad header", forwardauth.Options{Headers: forwardauth.Headers{User: "X A"}}, "not a valid header name"},
		{"bad redirect host", forwardauth.Options{RedirectHosts: []string{"https://app.example.com"}}, "redirect host"},
		{"login URL over http", forwardauth.Options{LoginURL: "http://auth.example.com/login"}, "LoginURL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("panic: %v", r)
				}
			}()
			err := newHandlerErr(t, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v, want one containing %q", err, tc.err)
			}
		})
	}
}
