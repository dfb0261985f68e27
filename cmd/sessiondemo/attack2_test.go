package main

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// redactLogText decodes at most three times, and then shows the text it
// decoded. A token one of whose characters is percent-encoded four times
// is logged as the token with that one character still escaped once: two
// runs shorter than 43 characters, so neither is redacted, and one
// unescape by whoever reads the log gives the token back.
func TestAttackRedactMissesTokenEncodedFourTimes(t *testing.T) {
	var b [32]byte
	rand.Read(b[:])
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	c := fmt.Sprintf("%%%02X", tok[21])
	for range 3 {
		c = strings.ReplaceAll(c, "%", "%25")
	}
	for _, in := range []string{
		"/?q=" + tok[:21] + c + tok[22:],
		"/" + tok[:21] + c + tok[22:],
	} {
		got := redactLogText(in)
		plain, err := url.PathUnescape(got)
		if err != nil {
			plain = got
		}
		if strings.Contains(plain, tok) {
			t.Errorf("redactLogText(%q) = %q: one unescape gives the token back", in, got)
		}
	}
}

// TestAttackCartBoundRaceAnswers500: "an item beyond the cart's bounds is
// refused with 409 and says so". Two tabs add the 99th tea at once: the
// loser's commit conflicts, session.Update replays the cart function on
// the winner's cart, which now refuses with errLineFull; but that error
// surfaces from the commit, after cartAdd has already taken the nil error
// of the first run and redirected, so the middleware's error handler
// answers 500 instead of the 409 page.
func TestAttackCartBoundRaceAnswers500(t *testing.T) {
	// A store with a network round trip, so that concurrent commits overlap.
	in := start(t, "-store", "redis://127.0.0.1:6379/13")
	for round := 0; round < 20; round++ {
		c := newClient(t, in.URL)
		for range maxQty - 1 {
			c.addToCart("tea")
		}
		token := c.token
		const n = 16
		codes := make(chan int, n)
		var start sync.WaitGroup
		start.Add(1)
		for range n {
			go func() {
				form := url.Values{"product": {"tea"}, "csrf_token": {token}}
				req, _ := http.NewRequest("POST", in.URL+"/cart/add", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Origin", in.URL)
				req.Header.Set("Sec-Fetch-Site", "same-origin")
				req.Header.Set("User-Agent", c.ua)
				start.Wait()
				resp, err := c.http.Do(req)
				if err != nil {
					codes <- 0
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				codes <- resp.StatusCode
			}()
		}
		start.Done()
		got := map[int]int{}
		for range n {
			got[<-codes]++
		}
		for code, k := range got {
			if code != http.StatusSeeOther && code != http.StatusConflict {
				t.Fatalf("round %d: %d of %d concurrent additions of the last allowed item answered %d (all: %v); want one 303 and 409s", round, k, n, code, got)
			}
		}
		if got[http.StatusSeeOther] != 1 {
			t.Fatalf("round %d: %v; want exactly one 303", round, got)
		}
	}
}
