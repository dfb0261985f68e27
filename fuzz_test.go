package session_test

import (
	"bytes"
	"encoding/base64"
	"reflect"
	"testing"
	"time"

	"github.com/sessionkit/session"
)

func FuzzParseToken(f *testing.F) {
	for _, s := range []string{"", "abc", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB", "\x00\xff", "r1GvVSmBFbtEyIxvj8QqQ3K_HgHPb6fjSXgvVysterM"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, ok := session.HashToken(s)
		raw, err := base64.RawURLEncoding.Strict().DecodeString(s)
		want := err == nil && len(raw) == 32 && len(s) == 43
		if ok != want {
			t.Fatalf("HashToken(%q) ok=%v; the strict decoder says %v", s, ok, want)
		}
		if ok && len(id) != 64 {
			t.Fatalf("id %q", id)
		}
	})
}

func FuzzDecodeRecord(f *testing.F) {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	seed := &session.Record{Version: 7, Subject: "alice", Created: now, LastActive: now, IdleDeadline: now.Add(time.Hour),
		AbsoluteDeadline: now.Add(24 * time.Hour), ClientAddr: "192.0.2.1", UserAgent: "ua", Persistent: true,
		Values: []session.Value{{Key: "a", Data: []byte(`1`)}, {Key: "b", Data: []byte(`"x"`)}}}
	f.Add(session.EncodeRecord(nil, seed))
	f.Add(session.EncodeRecord(nil, &session.Record{}))
	f.Add([]byte{1})
	f.Add([]byte{1, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := session.DecodeRecord("id", b)
		if err != nil {
			return
		}
		again, err := session.DecodeRecord("id", session.EncodeRecord(nil, rec))
		if err != nil {
			t.Fatalf("re-encoding a decoded record fails to decode: %v", err)
		}
		norm := func(r *session.Record) *session.Record {
			c := *r
			c.Values = append([]session.Value(nil), c.Values...)
			for i := range c.Values {
				c.Values[i].Data = bytes.Clone(c.Values[i].Data)
				if len(c.Values[i].Data) == 0 {
					c.Values[i].Data = nil
				}
			}
			if len(c.Values) == 0 {
				c.Values = nil
			}
			return &c
		}
		if !reflect.DeepEqual(norm(rec), norm(again)) {
			t.Fatalf("round trip changed the record\n%+v\n%+v", rec, again)
		}
	})
}

func TestRecordRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 0, 0, 123456789, time.UTC)
	rec := &session.Record{ID: "x", Version: 3, Subject: "bob", Created: now, LastActive: now, AuthTime: now,
		IdleDeadline: now.Add(time.Hour), AbsoluteDeadline: now.Add(24 * time.Hour), ClientAddr: "::1", UserAgent: "ua",
		RenewedTo: "next", Values: []session.Value{{Key: "a", Data: []byte(`1`)}, {Key: "b", Data: []byte(`2`)}, {Key: "c", Data: []byte(`3`)},
			{Key: "d", Data: []byte(`4`)}, {Key: "e", Data: []byte(`5`)}}}
	got, err := session.DecodeRecord("x", session.EncodeRecord(nil, rec))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rec) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, rec)
	}
	if _, err := session.DecodeRecord("x", []byte{9}); err == nil {
		t.Fatal("unknown format decoded")
	}
}

func TestEncodeRecordIsTight(t *testing.T) {
	now := time.Now()
	for _, rec := range []*session.Record{
		{},
		{Version: 1 << 40, Created: now, IdleDeadline: now.Add(time.Hour), AbsoluteDeadline: time.Unix(-1e9, 0),
			Subject: "s", UserAgent: string(make([]byte, 300)), Values: []session.Value{{Key: "k", Data: make([]byte, 200)}}},
	} {
		enc := session.EncodeRecord(nil, rec)
		if cap(enc) != len(enc) {
			t.Errorf("EncodeRecord: len %d, cap %d; the buffer should be sized exactly", len(enc), cap(enc))
		}
		if v, err := session.RecordVersion(enc); err != nil || v != rec.Version {
			t.Errorf("RecordVersion = %d, %v; want %d", v, err, rec.Version)
		}
	}
}
