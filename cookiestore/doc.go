// Package cookiestore seals session data into cookies: AES-256-GCM with a
// subkey per cookie name, under a key ring that supports rotation.
package cookiestore
