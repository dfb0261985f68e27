// Package cookiestore seals session data into cookies, the first step
// towards client-side sessions (issue 11).
//
// # What is here
//
// This package currently holds only the sealing layer. It treats the
// payload as opaque bytes; it knows nothing of session.Manager, deadlines
// or revocation, and the root package does not use it yet.
//
//   - [KeyRing.Seal] and [KeyRing.Open] encrypt and authenticate one cookie
//     value with AES-256-GCM (random 96-bit nonces, [crypto/cipher.NewGCMWithRandomNonce]).
//     Each master key is expanded with HKDF-SHA256 into a subkey per cookie
//     name, and the format version, key id, chunk count and cookie name are
//     the associated data: a value sealed for one cookie name, format
//     version or application (key ring) never opens under another.
//
//   - The format is compact and versioned:
//
//     v1.<key id>.<base64url(nonce | ciphertext | tag)>
//
//     v1.<key id>.<chunk count>.<base64url(...)> (split over several cookies)
//
//   - [KeyRing] holds several keys from configuration ([ParseKeyRing],
//     [LoadKeyRingFile], [LoadKeyRingEnv]; [GenerateKey] writes a key line).
//     The first key seals, every key opens, [KeyRing.NeedsReseal] tells the
//     caller to seal a value again with the primary key, and
//     [KeyRing.Seals] counts each key's seals against [SealBudget].
//     ParseKeyRing documents rotation: add, promote, retire.
//
//   - Size: [KeyRing.Seal] fails with [ErrTooLarge] before anything is
//     written when the cookie would exceed [MaxCookieBytes]; a payload of
//     3,000 bytes fits in one cookie (3,031 with a two-character key id
//     and the cookie name "session"). [KeyRing.SealChunks] and
//     [KeyRing.OpenChunks] split one sealed message over name, name.1, ...
//     so that missing, reordered or mixed chunks do not open.
//
// Every value that does not open, for whatever reason, yields an error
// wrapping [ErrInvalid]; callers treat it as "no session".
//
// # Nonce budget
//
// Random 96-bit nonces make a repeat likely enough after about 2^32 seals
// with one key that NIST SP 800-38D caps a key at 2^32 encryptions. A
// repeated nonce would expose the XOR of two payloads and let an attacker
// forge values. [KeyRing.Seals] counts per process only, and Seal returns
// [ErrKeyExhausted] if one process reaches the cap, but the budget is shared
// by every instance and every restart: rotate keys long before, for
// example every month, or sooner if many instances together write more
// than 10^6 sessions an hour (2^32 seals take about six months at that rate).
//
// # What is next
//
// The integration into session.Manager: where client-side sessions live in
// the commit path (a store package, a manager mode or a transport), the
// session record inside the payload (idle and absolute deadlines, auth
// time, subject, enforced on the server's clock), revocation (a per-user
// generation and per-session deny entries in a server store), the
// documentation of which concurrency guarantees cannot hold when the
// browser keeps the last Set-Cookie, and benchmarks in bench/ against
// gorilla/sessions.
package cookiestore
