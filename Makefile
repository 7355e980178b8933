# One-line targets shared by people and CI. `make help` lists them.
GO      ?= go
PKGS    := ./...
# An iteration count, not a duration: a duration's deadline can end a
# worker mid-run and fail the target with "context deadline exceeded".
FUZZTIME ?= 20000x

.PHONY: help build run demo test test-race unit fuzz lint bench golden ci

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

build: ## build ./bin/storekey, static (no libc: one file to copy, and 1 MB less resident)
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/storekey ./cmd/storekey

run: ## run the server on embedded SQLite
	$(GO) run ./cmd/storekey serve

demo: ## run the demo (seeded merchant, store and example app)
	$(GO) run ./cmd/storekey demo

test: ## the whole suite: vet, lint, tests with -race on SQLite, PostgreSQL and Chromium, then each fuzz target briefly
	$(GO) vet $(PKGS)
	$(MAKE) lint
	$(GO) test -race -count=1 -timeout 20m $(PKGS)
	$(MAKE) fuzz

unit: ## the tests without -race, quicker
	$(GO) test -count=1 $(PKGS)

fuzz: ## run each fuzz target for $(FUZZTIME)
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f"; $(GO) test $$pkg -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME); \
	  done; done

lint: ## golangci-lint (installed into ./bin on first use)
	@test -x bin/golangci-lint || GOBIN=$(CURDIR)/bin $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0
	bin/golangci-lint run

bench: ## Go benchmarks of the token path
	$(GO) test -run '^$$' -bench . -benchmem ./internal/...

golden: ## rewrite golden files (the packages that keep them)
	$(GO) test ./cmd/storekey ./internal/bench ./internal/web -update

ci: ## what .ci/run runs
	bash .ci/run
