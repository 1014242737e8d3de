# The two commands that do everything on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps build test lint format fmt demo bench deb clean
deps:
	$(SUDO) scripts/install-deps.sh

build: deps
	swift build

# Serial: every real-etcd and real-systemd suite starts clusters, daemons or a systemd guest; on 2 cores running them
# side by side would turn timing (lease TTLs, verify timeouts) into noise.
test: deps lint deb
	swift build --build-tests
	swift test --no-parallel

# swift-format (in the toolchain) with the checked-in .swift-format: 120 columns, no `;`. The generated protobuf
# code is left as protoc wrote it. `make format` rewrites in place; `make lint` fails on any difference.
SWIFT_FILES = git ls-files '*.swift' | grep -v '\.pb\.swift$$'
lint:
	$(SWIFT_FILES) | xargs swift format lint --strict --configuration .swift-format

format:
	$(SWIFT_FILES) | xargs swift format format -i --configuration .swift-format

fmt: format

# The .deb (static Swift stdlib) in .build/deb/; the systemd tests install it in a guest.
deb: deps
	rm -rf .build/deb && mkdir -p .build/deb/etcd-shepherd
	for f in Package.swift Package.resolved Sources Tests README.md config.example.json systemd packaging scripts protos; do ln -s "$(CURDIR)/$$f" .build/deb/etcd-shepherd/$$f; done
	cp -rL packaging/debian .build/deb/etcd-shepherd/debian
	cd .build/deb/etcd-shepherd && SCRATCH="$(CURDIR)/.build-release" dpkg-buildpackage -us -uc -b
	@ls -l .build/deb/*.deb

demo: build
	scripts/demo.sh

bench: deps
	swift build -c release
	scripts/bench.sh

clean:
	rm -rf .build .build-* .etcd
