package session

import (
	"encoding/json"
	"math"
	"testing"
)

// The fast paths of encodeValue and decodeValue give what encoding/json
// gives, errors included.
func TestValueFastPaths(t *testing.T) {
	for _, v := range []any{0, -1, 42, math.MaxInt64, math.MinInt64, int64(7), int32(-3), uint64(math.MaxUint64), true, false} {
		got, err := encodeValue(v)
		want, _ := json.Marshal(v)
		if err != nil || string(got) != string(want) {
			t.Errorf("encodeValue(%v) = %s, %v; want %s", v, got, err, want)
		}
	}
	for _, in := range []string{"0", "-0", "7", "-42", "9223372036854775807", "-9223372036854775808",
		"9223372036854775808", "-9223372036854775809", "99999999999999999999", "05", "1.0", "1e3", "-", "", "+1", " 1", "true", "null", `"1"`} {
		var got, want int64
		gotErr, wantErr := decodeValue([]byte(in), &got), json.Unmarshal([]byte(in), &want)
		if got != want || (gotErr == nil) != (wantErr == nil) {
			t.Errorf("decodeValue(%q) into int64 = %d, %v; encoding/json gives %d, %v", in, got, gotErr, want, wantErr)
		}
		var goti, wanti int
		gotErr, wantErr = decodeValue([]byte(in), &goti), json.Unmarshal([]byte(in), &wanti)
		if goti != wanti || (gotErr == nil) != (wantErr == nil) {
			t.Errorf("decodeValue(%q) into int = %d, %v; encoding/json gives %d, %v", in, goti, gotErr, wanti, wantErr)
		}
	}
	for _, in := range []string{"true", "false", "null", "1", `"true"`, "tru"} {
		var got, want bool
		gotErr, wantErr := decodeValue([]byte(in), &got), json.Unmarshal([]byte(in), &want)
		if got != want || (gotErr == nil) != (wantErr == nil) {
			t.Errorf("decodeValue(%q) into bool = %v, %v; encoding/json gives %v, %v", in, got, gotErr, want, wantErr)
		}
	}
	data := []byte("123456")
	if n := testing.AllocsPerRun(100, func() {
		var x int64 // escapes through the interface: the one allocation
		_ = decodeValue(data, &x)
	}); n > 1 {
		t.Errorf("decoding an int64 allocates %v times; want at most 1", n)
	}
}
