package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// writeUsers writes a users file with alice (admins) and bob, bcrypt
// hashes of the lowest cost so the tests stay fast.
func writeUsers(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, u := range []struct{ name, pw, groups, email string }{
		{"alice", "wonderland", "admins,dev", "alice@example.com"},
		{"bob", "builder", "", ""},
	} {
		h, err := bcrypt.GenerateFromPassword([]byte(u.pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(u.name + ":" + string(h) + ":" + u.groups + ":" + u.email + "\n")
	}
	path := filepath.Join(t.TempDir(), "users.txt")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startSessiond runs sessiond with args on a free port until the test
// ends, and returns its address.
func startSessiond(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	var logs strings.Builder
	go func() {
		done <- Run(ctx, append([]string{"-addr", "127.0.0.1:0", "-store", "memory:", "-log-level", "warn"}, args...), nil, pw, &syncWriter{w: &logs})
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("sessiond: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("sessiond did not stop")
		}
		if t.Failed() {
			t.Logf("sessiond log:\n%s", logs.String())
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("sessiond did not start: %v", err)
	}
	go io.Copy(io.Discard, pr)
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "sessiond listening on http://")
	if !ok {
		t.Fatalf("sessiond printed %q", line)
	}
	return addr
}
