#!/usr/bin/env bash
# The root package must import the standard library only.
set -euo pipefail
deps=$(go list -deps -f '{{if not .Standard}}{{.ImportPath}}{{end}}' . | grep -v '^github.com/sessionkit/session$' || true)
if [ -n "$deps" ]; then
	echo "package session must import the standard library only; it imports:" >&2
	echo "$deps" >&2
	exit 1
fi
