package main

import (
	"bytes"
	"encoding/json"
	"strings"
)

// secretWords are the parts of a name that mark what it names as a secret:
// a value stored under such a key, or a JSON member so named inside a
// value, is hidden by show unless --reveal is given. It errs on the side of
// hiding ("api_key", "keyboard" alike): a hidden value costs a --reveal, a
// shown one may end up in a terminal log or a support ticket.
var secretWords = []string{"csrf", "token", "password", "passwd", "secret", "key", "credential", "auth", "nonce", "otp"}

// looksSecret reports whether name contains one of secretWords, in any case.
func looksSecret(name string) bool {
	name = strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// hiddenMember replaces a secret JSON member's value.
const hiddenMember = "(hidden)"

// hideMembers returns data, a JSON value, with the values of object members
// whose names look secret replaced by "(hidden)", at any depth, and whether
// it hid any. When it hides nothing it returns data unchanged; otherwise the
// objects come back with their members sorted by name. Data that is not JSON
// is returned as it is.
func hideMembers(data []byte) ([]byte, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // keep numbers as they were written
	var v any
	if err := dec.Decode(&v); err != nil {
		return data, false
	}
	v, hid := hideIn(v)
	if !hid {
		return data, false
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return data, false
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), true
}

func hideIn(v any) (any, bool) {
	hid := false
	switch v := v.(type) {
	case map[string]any:
		for k, m := range v {
			if looksSecret(k) {
				v[k] = hiddenMember
				hid = true
				continue
			}
			var h bool
			v[k], h = hideIn(m)
			hid = hid || h
		}
	case []any:
		for i, e := range v {
			var h bool
			v[i], h = hideIn(e)
			hid = hid || h
		}
	}
	return v, hid
}
