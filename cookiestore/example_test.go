package cookiestore_test

import (
	"fmt"
	"log"

	"github.com/sessionkit/session/cookiestore"
)

func Example() {
	// In production the keys come from a file or an environment variable:
	// cookiestore.LoadKeyRingFile("/etc/myapp/session.keys").
	newer, _ := cookiestore.GenerateKey("2027-01")
	older, _ := cookiestore.GenerateKey("2026-12")
	ring, err := cookiestore.ParseKeyRing(newer + "\n" + older)
	if err != nil {
		log.Fatal(err)
	}

	value, err := ring.Seal("session", []byte(`{"sub":"ada"}`))
	if err != nil {
		log.Fatal(err) // ErrTooLarge: the payload does not fit in a cookie
	}
	payload, keyID, err := ring.Open("session", value)
	if err != nil {
		return // ErrInvalid: no session
	}
	fmt.Println(string(payload), keyID, ring.NeedsReseal(keyID))
	// Output: {"sub":"ada"} 2027-01 false
}
