package session

import (
	"fmt"
	"testing"
)

// mergeValues is how settle keeps the acknowledged writes of requests that
// still held the old ID while a renewal of unknown outcome was pending.
func TestMergeValues(t *testing.T) {
	vals := func(kv ...string) []Value {
		var out []Value
		for i := 0; i < len(kv); i += 2 {
			out = append(out, Value{Key: kv[i], Data: []byte(kv[i+1])})
		}
		return out
	}
	for _, tc := range []struct {
		name                     string
		base, theirs, fork, mine []Value
		want                     []Value
		changed                  bool
		lost                     int
	}{
		{"nothing changed on the old ID", vals("a", "1"), vals("a", "1"), vals("a", "1"), vals("a", "2"), vals("a", "2"), false, 0},
		{"a change, a deletion and a new key carried over",
			vals("a", "1", "b", "1", "c", "1"), vals("a", "2", "c", "1", "d", "1"),
			vals("a", "1", "b", "1", "c", "1", "x", "9"), vals("a", "1", "b", "1", "c", "3", "x", "9"),
			vals("a", "2", "c", "3", "d", "1", "x", "9"), true, 0},
		{"the browser's own change to a key wins", vals("c", "1"), vals("c", "5"), vals("c", "1"), vals("c", "3"), vals("c", "3"), false, 1},
		{"the browser's deletion wins over a change", vals("a", "1"), vals("a", "2"), vals("a", "1"), nil, nil, false, 1},
		{"a deletion on the old ID loses to the browser's change", vals("a", "1"), nil, vals("a", "1"), vals("a", "7"), vals("a", "7"), false, 1},
		{"a key both added", nil, vals("k", "t"), nil, vals("k", "m"), vals("k", "m"), false, 1},
		{"a key added on the old ID only", nil, vals("k", "t"), nil, vals("z", "m"), vals("k", "t", "z", "m"), true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, changed, lost := mergeValues(tc.base, tc.theirs, tc.fork, tc.mine)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) || changed != tc.changed || lost != tc.lost {
				t.Errorf("mergeValues = %s, %v, %d; want %s, %v, %d", got, changed, lost, tc.want, tc.changed, tc.lost)
			}
		})
	}
}
