# The two commands that do everything on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps build test demo bench clean
deps:
	$(SUDO) scripts/install-deps.sh

build: deps
	swift build

test: deps
	swift build --build-tests
	swift test

demo: build
	scripts/demo.sh

bench: deps
	swift build -c release
	scripts/bench.sh

clean:
	rm -rf .build .build-* .etcd
