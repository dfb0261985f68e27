package cookiestore

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxChunks is the largest number of cookies one value may be split into.
const MaxChunks = 8

// ChunkName returns the name of cookie i of a chunked value: name for i 0,
// name.1, name.2 ... after it.
func ChunkName(name string, i int) string {
	if i == 0 {
		return name
	}
	return name + "." + strconv.Itoa(i)
}

// SealChunks seals payload for the cookie called name as one message and
// splits the sealed value over as few cookies as it fits in, at most
// maxChunks (1 to MaxChunks): the result's element i is the value of the
// cookie ChunkName(name, i). If it fits in one cookie, the result is the
// one value Seal would return, which Open and OpenChunks both read.
//
// A chunked value reads v1.<key id>.<chunk count>.<base64url>, split at
// arbitrary points. The chunk count is part of the associated data and the
// split value is authenticated as a whole, so a missing, reordered or
// swapped chunk, or a mix of chunks from two sealings, does not open.
//
// It returns ErrTooLarge if the value does not fit in maxChunks cookies of
// MaxCookieBytes each. The caller should expire cookies ChunkName(name, i)
// for i from len(result) up to the most it has ever written; OpenChunks
// ignores them, but they waste request header space.
func (r *KeyRing) SealChunks(name string, payload []byte, maxChunks int) ([]string, error) {
	if !validName(name) || len(ChunkName(name, MaxChunks-1)) > 256 {
		return nil, ErrCookieName
	}
	if maxChunks < 1 || maxChunks > MaxChunks {
		return nil, fmt.Errorf("cookiestore: maxChunks %d: want 1 to %d", maxChunks, MaxChunks)
	}
	if len(r.keys) == 0 {
		return nil, errNoKeys
	}
	p := r.keys[0]
	n, capacity := 0, 0
	for n < maxChunks {
		capacity += MaxCookieBytes - len(ChunkName(name, n)) - 1
		n++
		if sealedLen(p.id, n, len(payload)) <= capacity {
			break
		}
	}
	if sealedLen(p.id, n, len(payload)) > capacity {
		return nil, ErrTooLarge
	}
	v, err := r.seal(p, name, payload, n)
	if err != nil {
		return nil, err
	}
	chunks := make([]string, n)
	for i := range chunks {
		c := min(len(v), MaxCookieBytes-len(ChunkName(name, i))-1)
		if i == n-1 {
			c = len(v)
		}
		chunks[i], v = v[:c], v[c:]
	}
	return chunks, nil
}

// OpenChunks opens a value written by SealChunks (or Seal). chunks[i] is
// the value of the cookie ChunkName(name, i), in order; the first chunk
// says how many there are, and chunks after those are ignored. A missing
// chunk, or any that do not belong together, yields an error wrapping
// ErrInvalid. The results are those of Open.
func (r *KeyRing) OpenChunks(name string, chunks []string) (payload []byte, keyID string, err error) {
	if len(chunks) == 0 {
		return nil, "", errChunks
	}
	n := chunkCount(chunks[0])
	if n == 1 {
		return r.open(name, chunks[0], 1)
	}
	if n == 0 || len(chunks) < n {
		return nil, "", errChunks
	}
	// SealChunks fills every chunk but the last to the brim: insist on it,
	// so that moving bytes between chunks (a second spelling of one value,
	// or a chunk beyond the size bound) does not open.
	size := 0
	for i, c := range chunks[:n] {
		full := MaxCookieBytes - len(ChunkName(name, i)) - 1
		if c == "" || len(c) > full || (i < n-1 && len(c) != full) {
			return nil, "", errChunks
		}
		size += len(c)
	}
	if size > maxSealedBytes {
		return nil, "", errMalformed
	}
	return r.open(name, strings.Join(chunks[:n], ""), n)
}

// chunkCount returns the chunk count declared by the first chunk of a
// value: 1 for an unchunked value, 0 if the header does not parse.
func chunkCount(first string) int {
	_, rest, ok := strings.Cut(first, ".") // version
	if !ok {
		return 1 // let open report it
	}
	_, rest, ok = strings.Cut(rest, ".") // key id
	if !ok {
		return 1
	}
	head, _, ok := strings.Cut(rest, ".")
	if !ok {
		return 1
	}
	n, ok := parseChunkCount(head)
	if !ok || n < 2 {
		return 0
	}
	return n
}
