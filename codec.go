package session

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// The record encoding is a compact binary layout shared by the stores that
// keep a record as one blob:
//
//	byte     format (1)
//	uvarint  Version
//	varint   Created, LastActive, AuthTime, IdleDeadline, AbsoluteDeadline (Unix ns; 0 = zero time)
//	byte     flags (bit 0: Persistent, bit 1: Ended, bit 2: ClientLocked)
//	string   Subject, ClientAddr, UserAgent, RenewedTo (uvarint length + bytes)
//	uvarint  number of values, then for each: string key, string data
//
// Binary rather than JSON because it is decoded on every request; the values
// inside stay JSON, so tools can still show them.
const recordFormat = 1

// EncodeRecord appends the encoding of r (all but its ID) to dst.
func EncodeRecord(dst []byte, r *Record) []byte {
	// Size the buffer once: stores keep it as it is, so growth slack would
	// stay in memory for the session's life.
	if need := encodedSize(r); cap(dst)-len(dst) < need {
		dst = append(make([]byte, 0, len(dst)+need), dst...)
	}
	dst = append(dst, recordFormat)
	dst = binary.AppendUvarint(dst, r.Version)
	for _, t := range [...]time.Time{r.Created, r.LastActive, r.AuthTime, r.IdleDeadline, r.AbsoluteDeadline} {
		dst = binary.AppendVarint(dst, unixNano(t))
	}
	var flags byte
	if r.Persistent {
		flags |= 1
	}
	if r.Ended {
		flags |= 2
	}
	if r.ClientLocked {
		flags |= 4
	}
	dst = append(dst, flags)
	for _, s := range [...]string{r.Subject, r.ClientAddr, r.UserAgent, r.RenewedTo} {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	dst = binary.AppendUvarint(dst, uint64(len(r.Values)))
	for _, v := range r.Values {
		dst = binary.AppendUvarint(dst, uint64(len(v.Key)))
		dst = append(dst, v.Key...)
		dst = binary.AppendUvarint(dst, uint64(len(v.Data)))
		dst = append(dst, v.Data...)
	}
	return dst
}

// encodedSize bounds the length of r's encoding from above, tightly.
func encodedSize(r *Record) int {
	n := 1 + binary.MaxVarintLen64 + 1 // format, version, flags
	for _, t := range [...]time.Time{r.Created, r.LastActive, r.AuthTime, r.IdleDeadline, r.AbsoluteDeadline} {
		n += varintLen(unixNano(t))
	}
	n -= binary.MaxVarintLen64 - uvarintLen(r.Version)
	for _, s := range [...]string{r.Subject, r.ClientAddr, r.UserAgent, r.RenewedTo} {
		n += uvarintLen(uint64(len(s))) + len(s)
	}
	n += uvarintLen(uint64(len(r.Values)))
	for _, v := range r.Values {
		n += uvarintLen(uint64(len(v.Key))) + len(v.Key) + uvarintLen(uint64(len(v.Data))) + len(v.Data)
	}
	return n
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

func varintLen(x int64) int {
	ux := uint64(x) << 1
	if x < 0 {
		ux = ^ux
	}
	return uvarintLen(ux)
}

// RecordVersion reads the version of an encoded record without decoding the
// rest, for stores that keep only the blob.
func RecordVersion(b []byte) (uint64, error) {
	if len(b) == 0 || b[0] != recordFormat {
		return 0, fmt.Errorf("%w: unknown format", ErrCorrupt)
	}
	v, n := binary.Uvarint(b[1:])
	if n <= 0 {
		return 0, fmt.Errorf("%w: truncated", ErrCorrupt)
	}
	return v, nil
}

// DecodeRecord decodes a record encoded by EncodeRecord and gives it the ID
// id. The record's values share memory with b, which must not be modified
// afterwards. A malformed encoding returns an error, never a panic.
func DecodeRecord(id string, b []byte) (*Record, error) {
	d := decoder{b: b}
	if d.byte() != recordFormat {
		return nil, fmt.Errorf("%w: unknown format", ErrCorrupt)
	}
	// One allocation holds the record and the values of a typical session.
	type recordWithValues struct {
		Record
		inline [4]Value
	}
	rv := new(recordWithValues)
	r := &rv.Record
	r.ID = id
	r.Version = d.uvarint()
	r.Created = d.time()
	r.LastActive = d.time()
	r.AuthTime = d.time()
	r.IdleDeadline = d.time()
	r.AbsoluteDeadline = d.time()
	flags := d.byte()
	r.Persistent, r.Ended, r.ClientLocked = flags&1 != 0, flags&2 != 0, flags&4 != 0
	// The strings of a record come from one string conversion of the rest of
	// the buffer, sliced; it costs one allocation instead of one per string.
	d.str = string(d.b[d.off:])
	d.base = d.off
	r.Subject = d.string()
	r.ClientAddr = d.string()
	r.UserAgent = d.string()
	r.RenewedTo = d.string()
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)-d.off)/2 {
		d.err = ErrCorrupt // each value takes at least two bytes
	}
	if d.err != nil {
		return nil, d.err
	}
	if n <= uint64(len(rv.inline)) {
		r.Values = rv.inline[:n:n]
	} else {
		r.Values = make([]Value, n)
	}
	for i := range r.Values {
		r.Values[i].Key = d.string()
		r.Values[i].Data = d.bytes()
		if d.err == nil && i > 0 && r.Values[i-1].Key >= r.Values[i].Key {
			d.err = fmt.Errorf("%w: keys out of order", ErrCorrupt)
		}
	}
	if d.err == nil && d.off != len(d.b) {
		d.err = fmt.Errorf("%w: trailing bytes", ErrCorrupt)
	}
	if d.err != nil {
		return nil, d.err
	}
	return r, nil
}

type decoder struct {
	b    []byte
	off  int
	str  string // b[base:] as a string
	base int
	err  error
}

func (d *decoder) byte() byte {
	if d.err != nil || d.off >= len(d.b) {
		d.fail()
		return 0
	}
	c := d.b[d.off]
	d.off++
	return c
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail()
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) time() time.Time {
	if d.err != nil {
		return time.Time{}
	}
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.fail()
		return time.Time{}
	}
	d.off += n
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(0, v).UTC()
}

func (d *decoder) span() (int, int) {
	n := d.uvarint()
	if d.err != nil {
		return 0, 0
	}
	if n > uint64(len(d.b)-d.off) {
		d.fail()
		return 0, 0
	}
	start := d.off
	d.off += int(n)
	return start, d.off
}

func (d *decoder) string() string {
	i, j := d.span()
	if d.err != nil {
		return ""
	}
	return d.str[i-d.base : j-d.base]
}

func (d *decoder) bytes() []byte {
	i, j := d.span()
	if d.err != nil {
		return nil
	}
	return d.b[i:j:j]
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = fmt.Errorf("%w: truncated", ErrCorrupt)
	}
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// encodeValue and decodeValue are the value codec: JSON, so values need no
// registration, are readable by sessionctl and by other languages.
// encodeValue is JSON. Integers and booleans (a user id, a counter, a flag)
// skip the encoder: the bytes are the same, without its reflection and
// allocations.
func encodeValue(v any) ([]byte, error) {
	switch x := v.(type) {
	case int:
		return strconv.AppendInt(nil, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(nil, x, 10), nil
	case int32:
		return strconv.AppendInt(nil, int64(x), 10), nil
	case uint64:
		return strconv.AppendUint(nil, x, 10), nil
	case bool:
		return strconv.AppendBool(nil, x), nil
	}
	return json.Marshal(v)
}

// decodeInt parses data as a JSON integer the way encoding/json would for
// a signed integer of bits, or reports that the decoder must decide (a
// fraction, an exponent, a leading zero, an overflow: its errors are the
// ones to return).
func decodeInt(data []byte, bits int) (int64, bool) {
	digits := data
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 19 || (digits[0] == '0' && len(digits) > 1) {
		return 0, false
	}
	var u uint64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		u = u*10 + uint64(c-'0') // 19 digits cannot overflow a uint64
	}
	limit := uint64(1) << (bits - 1) // |min|; max is one less
	switch {
	case len(digits) < len(data) && u <= limit:
		return -int64(u), true
	case len(digits) == len(data) && u < limit:
		return int64(u), true
	}
	return 0, false
}

func decodeValue(data []byte, v any) error {
	// The commonest value is a plain string (a user name, a flash message):
	// take it without the JSON decoder when it holds no escapes.
	if p, ok := v.(*string); ok && len(data) >= 2 && data[0] == '"' && data[len(data)-1] == '"' {
		inner := data[1 : len(data)-1]
		plain := true
		for _, c := range inner {
			if c == '\\' || c == '"' || c < 0x20 || c >= 0x80 {
				plain = false
				break
			}
		}
		if plain {
			*p = string(inner)
			return nil
		}
	}
	switch p := v.(type) {
	case *int:
		if n, ok := decodeInt(data, strconv.IntSize); ok {
			*p = int(n)
			return nil
		}
	case *int64:
		if n, ok := decodeInt(data, 64); ok {
			*p = n
			return nil
		}
	case *bool:
		switch string(data) {
		case "true":
			*p = true
			return nil
		case "false":
			*p = false
			return nil
		}
	}
	return json.Unmarshal(data, v)
}
