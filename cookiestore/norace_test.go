//go:build !race

package cookiestore

const raceEnabled = false
