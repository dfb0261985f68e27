// Package e2e holds the browser tests of cmd/sessiondemo: they build the
// real program, start it on an SQLite file, and drive Debian's Chromium
// through chromedp. It is a module of its own, so that the library's go.mod
// never lists chromedp.
//
//	cd e2e && go test -count=1 ./...
//
// Set E2E_SCREENSHOTS to a directory to keep a screenshot of every page;
// otherwise they go to the test's temporary directory. Without Chromium at
// /usr/bin/chromium the tests skip, or fail when CI is set.
package e2e
