package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/sessionkit/session/internal/testenv"
)

const (
	chromium = "/usr/bin/chromium"
	// stepTimeout bounds every browser step; startTimeout the start of a
	// browser or of the app.
	stepTimeout  = 15 * time.Second
	startTimeout = 30 * time.Second
)

// buildApp builds cmd/sessiondemo into dir. It builds inside the library's
// module, whose go.mod lists the program's dependencies; this module only
// needs chromedp.
func buildApp(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "sessiondemo")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/sessiondemo")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/sessiondemo: %v\n%s", err, out)
	}
	return bin
}

// app is the program running as a child process.
type app struct {
	URL    string
	Addr   string
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan error
	once   sync.Once
}

// startApp runs bin on addr ("127.0.0.1:0" for a free port) with the SQLite
// file db and any further flags, and waits for its "listening" line. The
// caller stops it.
func startApp(t *testing.T, bin, addr, db string, flags ...string) *app {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-addr", addr, "-store", "sqlite://" + db}, flags...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	a := &app{cmd: cmd, stderr: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = a.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		a.done <- cmd.Wait()
	}()
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(stdout)
		if s.Scan() {
			line <- s.Text()
		}
		close(line)
		for s.Scan() {
		}
	}()
	select {
	case l, ok := <-line:
		const prefix = "sessiondemo listening on http://"
		if !ok || !strings.HasPrefix(l, prefix) {
			a.cmd.Process.Kill()
			t.Fatalf("sessiondemo printed %q; stderr:\n%s", l, a.stderr)
		}
		a.Addr = strings.TrimPrefix(l, prefix)
		a.URL = "http://" + a.Addr
	case <-time.After(startTimeout):
		a.cmd.Process.Kill()
		t.Fatalf("sessiondemo did not start in %v; stderr:\n%s", startTimeout, a.stderr)
	}
	return a
}

// stop sends SIGINT, as Ctrl-C does, and expects a clean exit. It logs the
// app's stderr if the test failed.
func (a *app) stop(t *testing.T) {
	a.once.Do(func() {
		defer func() {
			if t.Failed() {
				t.Logf("sessiondemo stderr:\n%s", a.stderr)
			}
		}()
		a.cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-a.done:
			if err != nil {
				t.Errorf("sessiondemo exited with %v; stderr:\n%s", err, a.stderr)
			}
		case <-time.After(15 * time.Second):
			a.cmd.Process.Kill()
			<-a.done
			t.Errorf("sessiondemo did not stop within 15s of SIGINT")
		}
	})
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// browser is one Chromium with its own profile: its own cookies.
type browser struct {
	t     *testing.T
	name  string
	ctx   context.Context
	base  string
	shots *shots
}

// newBrowser starts Chromium with a fresh user-data-dir, with the flags of
// Debian's headless Chromium in a container and nothing that phones home.
func newBrowser(t *testing.T, name, base string, s *shots) *browser {
	t.Helper()
	profile := t.TempDir()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(profile),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 900),
	)
	var mu sync.Mutex
	ended := false
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if !ended { // chromedp may log after the test ended
			t.Logf(name+": chromedp: "+format, args...)
		}
	}
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithErrorf(logf))
	t.Cleanup(func() {
		cancel()
		cancelAlloc() // waits for Chromium to exit, before the profile is removed
		mu.Lock()
		ended = true
		mu.Unlock()
	})
	// The first call starts the browser and ties it to ctx, which has no
	// deadline; bound the wait here instead.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("%s: start %s: %v", name, chromium, err)
		}
	case <-time.After(startTimeout):
		t.Fatalf("%s: %s did not start in %v", name, chromium, startTimeout)
	}
	return &browser{t: t, name: name, ctx: ctx, base: base, shots: s}
}

// step runs actions under stepTimeout.
func (b *browser) step(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %s: %v", b.name, what, err)
	}
}

// get runs one action that returns a value, under stepTimeout.
func get[T any](b *browser, what string, action chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		b.t.Fatalf("%s: %s: %v", b.name, what, err)
	}
	return v
}

// open loads path and returns the HTTP status of the page.
func (b *browser) open(path string) int64 {
	b.t.Helper()
	resp := get(b, "open "+path, chromedp.NavigateResponse(b.base+path))
	return resp.Status
}

// submit clicks sel (a button of a form), waits for the page that the form
// leads to, after any redirect, and returns its HTTP status.
func (b *browser) submit(sel string) int64 {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("%s: submit %s: %v", b.name, sel, err)
	}
	return resp.Status
}

// back goes one step back in the browser's history, like its back button,
// and waits until the page at path shows. chromedp.NavigateBack waits for a
// load event, which a page restored from the back-forward cache never fires.
func (b *browser) back(path string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	hist, err := chromedp.Call(ctx, page.GetNavigationHistory, cdp.Empty{})
	if err != nil || hist.CurrentIndex < 1 {
		b.t.Fatalf("%s: history: %v (at entry %d)", b.name, err, hist.CurrentIndex)
	}
	prev := hist.Entries[hist.CurrentIndex-1].ID
	if _, err := chromedp.Call(ctx, page.NavigateToHistoryEntry, page.NavigateToHistoryEntryParams{EntryID: prev}); err != nil {
		b.t.Fatalf("%s: history back: %v", b.name, err)
	}
	// Evaluate until the new document answers: while it loads, the old
	// one's JavaScript context is gone and evaluations fail.
	cond := fmt.Sprintf("location.pathname === %q && document.readyState === 'complete'", path)
	for {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond)); err == nil && ok {
			return
		}
		select {
		case <-ctx.Done():
			b.t.Fatalf("%s: history back to %s: %v", b.name, path, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// click clicks the first element matching sel, with no navigation to wait for.
func click(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS(sel))
}

// The readers below evaluate JavaScript rather than use chromedp's DOM
// queries, which wait for nodes of the document chromedp last saw: after a
// page comes back from the back-forward cache, they wait forever.

// element evaluates expr on the first element matching sel, e; it fails
// when there is none.
func element[T any](b *browser, sel, expr string) T {
	b.t.Helper()
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e) throw new Error("no element " + %q); return %s; })()`, sel, sel, expr)
	return get(b, sel+": "+expr, chromedp.Evaluate[T](js))
}

// text returns the text of the first element matching sel, as shown.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return strings.TrimSpace(element[string](b, sel, "e.innerText"))
}

// has reports whether an element matches sel on the current page.
func (b *browser) has(sel string) bool {
	b.t.Helper()
	return get(b, "look for "+sel, chromedp.Evaluate[bool](fmt.Sprintf("document.querySelector(%q) !== null", sel)))
}

// count returns how many elements match sel.
func (b *browser) count(sel string) int {
	b.t.Helper()
	return get(b, "count "+sel, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
}

func (b *browser) value(sel string) string {
	b.t.Helper()
	return element[string](b, sel, "e.value")
}

func (b *browser) checked(sel string) bool {
	b.t.Helper()
	return element[bool](b, sel, "e.checked")
}

// attr returns an attribute of the first element matching sel.
func (b *browser) attr(sel, name string) string {
	b.t.Helper()
	return element[string](b, sel, fmt.Sprintf("e.getAttribute(%q) || ''", name))
}

// fill sets form fields: selector → value.
func (b *browser) fill(fields ...string) {
	b.t.Helper()
	var actions []chromedp.Action[chromedp.Void]
	for i := 0; i+1 < len(fields); i += 2 {
		actions = append(actions, chromedp.SetValue(chromedp.CSS(fields[i]), fields[i+1]))
	}
	b.step("fill the form", actions...)
}

// signedInAs returns the user the header names, or "" for a visitor.
func (b *browser) signedInAs() string {
	b.t.Helper()
	if !b.has("#signed-in") {
		return ""
	}
	return b.text("#signed-in")
}

// shot saves a full-page screenshot.
func (b *browser) shot(name string) {
	b.t.Helper()
	png := get(b, "screenshot "+name, chromedp.FullScreenshot(100))
	b.shots.save(b.t, name, png)
}

// sessionCookie returns the browser's session cookie for the app.
func (b *browser) sessionCookie() *network.Cookie {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{b.base + "/"}})
	if err != nil {
		b.t.Fatalf("%s: cookies: %v", b.name, err)
	}
	for _, c := range res.Cookies {
		if c.Name == "__Host-session" {
			return c
		}
	}
	return nil
}

// setUserAgent makes the browser send ua from now on: another browser, as
// far as the app can tell, with the same cookies.
func (b *browser) setUserAgent(ua string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua}); err != nil {
		b.t.Fatalf("%s: set the user agent: %v", b.name, err)
	}
}

// login signs in through the form.
func (b *browser) login(user, password string) {
	b.t.Helper()
	b.open("/login")
	b.fill("#username", user, "#password", password)
	if status := b.submit("#login-submit"); status != 200 {
		b.t.Fatalf("%s: login as %s: status %d", b.name, user, status)
	}
	if got := b.signedInAs(); !strings.HasSuffix(got, " "+user) {
		b.t.Fatalf("%s: after login the header says %q", b.name, got)
	}
}

// shots writes screenshots to $E2E_SCREENSHOTS, or the test's temporary
// directory.
type shots struct {
	dir   string
	n     int
	paths []string
	mu    sync.Mutex
}

func newShots(t *testing.T) *shots {
	dir := os.Getenv("E2E_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := &shots{dir: dir}
	t.Cleanup(func() {
		t.Logf("%d screenshots in %s:\n  %s", len(s.paths), dir, strings.Join(s.paths, "\n  "))
	})
	return s
}

func (s *shots) save(t *testing.T, name string, png []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	path := filepath.Join(s.dir, fmt.Sprintf("%02d-%s.png", s.n, name))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	s.paths = append(s.paths, path)
}

func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		if testenv.InCI() {
			t.Fatalf("%s is missing under CI (scripts/services.sh installs it): %v", chromium, err)
		}
		t.Skipf("%s is missing (apt-get install chromium, or make services): %v", chromium, err)
	}
}
