# ferry — see README.md. Every target installs what it needs into .cache/.
SHELL   := /bin/bash
GO      ?= go
CACHE   ?= $(CURDIR)/.cache
export FERRY_CACHE := $(CACHE)
TOOLBIN := $(CACHE)/bin
PKGS    := ./...
# Whole-suite bound; CI allows 90 minutes and the suite takes a few.
TEST_TIMEOUT ?= 20m
# VERSION is what `ferry version` prints: the nearest tag, commits since
# and -dirty, or the bare commit with no tag yet; "dev" outside a git
# checkout (a source tarball). scripts/demo.sh stamps its build the same way.
VERSION := $(or $(VERSION),$(shell git describe --tags --always --dirty 2>/dev/null),dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: all build static test lint fmt vet staticcheck testservers tools proto clean demo

all: build

build:
	$(GO) build $(PKGS)
	@if [ -d cmd/ferry ]; then $(GO) build -ldflags "$(LDFLAGS)" -o bin/ferry ./cmd/ferry && echo "built bin/ferry $(VERSION)"; fi

## static: a static, stripped bin/ferry-static (no cgo, no libc), the
## binary the container image ships. The Dockerfile's build stage runs
## this target, so `make static` here (and in CI) exercises the image's
## build command without a container runtime.
static:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w $(LDFLAGS)" -o bin/ferry-static ./cmd/ferry
	@echo "built bin/ferry-static $(VERSION)"

## test: the whole suite with the race detector, against real servers.
## Passing tests are quiet: what prints is each package's closing line
## (ok / FAIL), the full output of failed tests, skips with their reason
## (a test whose server cannot start says so, with the fix) and build
## errors. scripts/testquiet reads go test -json and prints each line as
## soon as it is known, so output arrives line by line when redirected;
## pipefail gives the target go test's status.
test: testservers
	$(GO) build -o bin/testquiet ./scripts/testquiet
	set -o pipefail; $(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) -json $(PKGS) 2>&1 | bin/testquiet


## lint: gofmt, go vet and staticcheck must all be clean.
lint: fmt vet staticcheck

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.cache/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

staticcheck:
	@scripts/install-tool.sh staticcheck
	$(TOOLBIN)/staticcheck $(PKGS)

## testservers: versitygw (S3 over TLS) for the tests, into .cache/bin.
## nginx comes from Debian (apt-get install nginx-light; .ci/run does it).
testservers:
	@scripts/install-tool.sh versitygw
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || \
		echo "testservers: nginx not found: apt-get install nginx-light (the HTTP URL-list tests need it)"

tools: testservers
	@scripts/install-tool.sh staticcheck

## demo: a real migration end to end: local S3 server over TLS, sample
## data, ferry run, audit, re-run. See README.md.
demo:
	@scripts/demo.sh

## proto: regenerates proto/ferrypb from proto/ferry/v1/*.proto with
## Debian's protoc (apt-get install protobuf-compiler) and the pinned
## protoc-gen-go / protoc-gen-go-grpc from scripts/install-tool.sh.
proto:
	@command -v protoc >/dev/null || { echo "proto: protoc not found: apt-get install protobuf-compiler"; exit 1; }
	@scripts/install-tool.sh protoc-gen-go protoc-gen-go-grpc
	PATH="$(TOOLBIN):$$PATH" protoc -I proto \
		--go_out=. --go_opt=module=github.com/ferry-migrate/ferry \
		--go-grpc_out=. --go-grpc_opt=module=github.com/ferry-migrate/ferry \
		proto/ferry/v1/ferry.proto

clean:
	rm -rf bin

## bench: ferry vs rclone vs a raw GET->PUT pipe on two local versitygw
## servers, scan scale at 1 M / 2 M objects, hashing cost, and the master
## at scale (a real master, 100 and 1,000 simulated workers, 10^6 and
## 10^7 objects; BENCH_SECTIONS=scale runs it alone). Writes the
## tables into docs/benchmarks.md. Not part of `make test`. Takes a while
## (rclone's first build alone is minutes); BENCH_QUICK=1 runs small
## datasets. Scratch data goes to $(BENCH_WORK).
BENCH_WORK ?= $(or $(TMPDIR),/tmp)/ferry-bench
.PHONY: bench
bench:
	@scripts/install-tool.sh versitygw rclone
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/ferry ./cmd/ferry
	$(GO) build -o bin/rawpipe ./scripts/bench/rawpipe
	$(GO) build -o bin/scanbench ./scripts/bench/scanbench
	$(GO) build -o bin/hashbench ./scripts/bench/hashbench
	$(GO) build -o bin/scalebench ./scripts/bench/scale
	$(GO) run ./scripts/bench/bench -work $(BENCH_WORK) $(if $(BENCH_SECTIONS),-sections $(BENCH_SECTIONS))
