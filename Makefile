# make test: everything CI runs. make lint: static checks only. make bench: the numbers in BENCHMARKS.md.
GO ?= go
STATICCHECK_VERSION := v0.8.2
export GOFLAGS := -mod=mod

.PHONY: test lint services bench fuzz unit e2e soak

test: services lint unit model e2e fuzz

services:
	@bash scripts/services.sh

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...
	@bash scripts/stdlib-only.sh
	cd bench && $(GO) vet ./...
	cd e2e && $(GO) vet ./...
	cd modeltest && $(GO) vet ./...
	cd examples && $(GO) vet ./...

unit:
	$(GO) test -race -count=1 -timeout 10m ./...
	cd examples && $(GO) test -count=1 ./...

# The model-based concurrency test of the commit path (modeltest/, its own
# module): rapid state machines on memstore, Redis and PostgreSQL, about a
# minute under -race. SESSION_SOAK=10m make model runs each store that long;
# make soak does too.
.PHONY: model
model: services
	cd modeltest && $(GO) test -race -count=1 -timeout 60m ./...

# The reference app in headless Chromium (installed by scripts/services.sh).
e2e:
	cd e2e && $(GO) test -count=1 -timeout 5m ./...

# Minutes of load with repeated store outages; not part of CI.
SOAK ?= 2m
soak:
	SESSION_SOAK=$(SOAK) $(GO) test -race -count=1 -run '^TestSoak$$' -timeout 30m -v ./internal/reliability/
	cd modeltest && SESSION_SOAK=$(SOAK) $(GO) test -race -count=1 -timeout 60m -v ./...

# Each fuzz target for a bounded number of executions (a few seconds each):
# enough to catch a regression in the parsers, bounded so CI stays fast. A
# count, not a duration: Go 1.26's fuzz coordinator can report "context
# deadline exceeded" when a -fuzztime duration expires under load
# (go.dev/issue/75804, fixed in Go 1.27). The corpus under testdata/ runs
# in unit too.
FUZZTIME ?= 30000x
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParseToken$$' -fuzztime $(FUZZTIME) .
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeRecord$$' -fuzztime $(FUZZTIME) .
	$(GO) test -run '^$$' -fuzz '^FuzzCookieValue$$' -fuzztime $(FUZZTIME) .
	$(GO) test -run '^$$' -fuzz '^FuzzVerify$$' -fuzztime $(FUZZTIME) ./csrf/
	$(GO) test -run '^$$' -fuzz '^FuzzSessionless$$' -fuzztime $(FUZZTIME) ./csrf/
	$(GO) test -run '^$$' -fuzz '^FuzzVerifyProof$$' -fuzztime $(FUZZTIME) ./dbsc/
	$(GO) test -run '^$$' -fuzz '^FuzzOpen$$' -fuzztime $(FUZZTIME) ./cookiestore/

# About 15 minutes. Writes bench/out/: the raw outputs, benchstat's tables
# and the load test's markdown, from which BENCHMARKS.md's tables are taken.
BENCHSTAT := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
bench:
	mkdir -p bench/out
	cd bench && $(GO) test -run '^$$' -bench 'Untouched|Read|Modify|Login' -benchmem -count 6 . | tee out/core.txt
	cd bench && $(GO) test -run '^$$' -bench 'HeapPerSession' -benchmem -count 3 -benchtime 1x . | tee out/heap.txt
	cd bench && $(GO) test -run '^$$' -bench 'Sweep' -benchmem -count 3 . | tee out/sweep.txt
	cd bench && $(GO) run $(BENCHSTAT) -col /lib out/core.txt | tee out/core-benchstat.txt
	cd bench && $(GO) run ./cmd/loadtest | tee out/loadtest.md
	$(GO) test -run '^$$' -bench . -benchmem ./ratelimit/... | tee bench/out/ratelimit.txt
