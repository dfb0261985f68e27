package cookiestore

import "encoding/binary"

// encodeURL writes the unpadded base64url encoding of src into dst, which
// must be b64.EncodedLen(len(src)) bytes, exactly as b64.Encode would. It
// encodes 6 bytes into 8 characters per step with a table of character
// pairs, about three times as fast as encoding/base64 for cookie-sized
// values; the final partial group goes through encoding/base64.
func encodeURL(dst, src []byte) {
	for len(src) >= 8 && len(dst) >= 8 {
		v := binary.BigEndian.Uint64(src) >> 16 // the first 48 bits
		binary.LittleEndian.PutUint64(dst, uint64(pairs[v>>36&0xfff])|
			uint64(pairs[v>>24&0xfff])<<16|
			uint64(pairs[v>>12&0xfff])<<32|
			uint64(pairs[v&0xfff])<<48)
		src, dst = src[6:], dst[8:]
	}
	b64.Encode(dst, src)
}

// pairs[i] holds the two base64url characters of the 12 bits i, the first
// in the low byte.
var pairs = func() (t [4096]uint16) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range t {
		t[i] = uint16(alphabet[i>>6]) | uint16(alphabet[i&63])<<8
	}
	return t
}()
