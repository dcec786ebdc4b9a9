# Begawi — build, test, benchmark.
# `make test` installs what a fresh Debian machine lacks, then builds and runs the whole suite.

SWIFT ?= swift
APT_PACKAGES := libsqlite3-dev libcurl4-openssl-dev zlib1g-dev pkg-config sqlite3 openssl python3 systemd
# Only the test suite needs these: clocks a year off, Prometheus' reference parser, a headless browser for the dashboard,
# and PostgreSQL for a throwaway cluster (Tests/Tools/pgcluster).
TEST_PACKAGES := faketime curl python3-prometheus-client chromium chromium-driver python3-selenium libnss3-tools dpkg-dev postgresql
# `make deb`: dpkg-shlibdeps names the Debian packages of the libraries the binary needs.
DEB_PACKAGES := dpkg-dev
BENCH_PACKAGES := sqlite3-tools zstd rsync
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PREFIX ?= /usr/local

.PHONY: all deps test-deps bench-deps deb-deps build release test bench bench-sync bench-year demo clean install install-files deb

all: build

# Installs the Debian packages of a list that are missing.
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
endef

deps:
	$(call apt_install,$(APT_PACKAGES))

test-deps: deps
	$(call apt_install,$(TEST_PACKAGES))

bench-deps: deps
	$(call apt_install,$(BENCH_PACKAGES))

deb-deps:
	$(call apt_install,$(DEB_PACKAGES))

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# The whole suite in one run. Longer soaks: BEGAWI_SIM_SEEDS=100000 make test (see README).
# The PostgreSQL tests get a throwaway cluster through BEGAWI_TEST_POSTGRES; it is stopped and removed
# however the tests end, and the exit status stays the tests'.
test: test-deps
	$(SWIFT) build --build-tests
	@pg=$$(mktemp -d /tmp/begawi-pg.XXXXXX) && trap 'Tests/Tools/pgcluster stop "$$pg"' EXIT INT TERM && \
	url=$$(Tests/Tools/pgcluster start "$$pg") && echo "PostgreSQL for the tests: $$url" && \
	BEGAWI_TEST_POSTGRES=$$url $(SWIFT) test --skip-build

# Figures for BENCHMARKS.md, from the benchmarks' own package (Benchmarks/; not built by `swift build`).
bench: bench-deps
	$(SWIFT) build -c release --package-path Benchmarks
	$$($(SWIFT) build -c release --package-path Benchmarks --show-bin-path)/begawi-bench

# Sync over HTTPS (BENCHMARKS.md, issue 3): real hub and site processes from a release build in
# .build-bench. The poor-link figure needs root (../shared/lab/poorlink); `ingest` needs ~25 GB in /tmp.
bench-sync: bench-deps
	$(SWIFT) build -c release --scratch-path .build-bench
	python3 bench/sync_bench.py --bin $$($(SWIFT) build -c release --scratch-path .build-bench --show-bin-path) all

# A year of Bontang's traffic (BENCHMARKS.md, issue 15): the hub and 28 sites in process on a simulated
# clock, file sizes without and with housekeeping. BEGAWI_BENCH_YEAR=WEEKS[,PERCENT of the load];
# three runs (none, housekeeping, + audit archived); the default, half the load, takes about 10 min alone
# here, the full load (52) about twice that (sizes do not depend on the build).
bench-year: deps
	$(SWIFT) build --build-tests
	BEGAWI_BENCH_YEAR=$${BEGAWI_BENCH_YEAR:-52,50} $(SWIFT) test --skip-build --filter YearBenchmarkTests

demo: deps
	$(SWIFT) build --product begawi
	$$($(SWIFT) build --show-bin-path)/begawi demo

# Installs the release binary, the systemd units (ExecStart pointing at $(PREFIX)/bin), the
# sysusers file, the example configuration, the documentation and the default schemas (`begawi demo` and `replica create`
# look in $(PREFIX)/share/begawi when they run outside the source tree). DESTDIR stages the files elsewhere (for packages).
install: release
	$(MAKE) install-files BIN=$$($(SWIFT) build -c release --show-bin-path)/begawi

BIN ?= $(shell $(SWIFT) build -c release --show-bin-path 2>/dev/null)/begawi
install-files:
	@test -x "$(BIN)" || { echo "no begawi binary at $(BIN); run make release first"; exit 1; }
	install -D -m 0755 "$(BIN)" "$(DESTDIR)$(PREFIX)/bin/begawi"
	install -d -m 0755 "$(DESTDIR)$(PREFIX)/lib/systemd/system"
	for unit in begawi-hub.service begawi-site.service; do \
		sed 's|/usr/local/bin/begawi|$(PREFIX)/bin/begawi|; s|/usr/local/share/doc/begawi|$(PREFIX)/share/doc/begawi|' \
			systemd/$$unit > "$(DESTDIR)$(PREFIX)/lib/systemd/system/$$unit" && \
		chmod 0644 "$(DESTDIR)$(PREFIX)/lib/systemd/system/$$unit" || exit 1; \
	done
	install -D -m 0644 systemd/begawi.sysusers.conf "$(DESTDIR)$(PREFIX)/lib/sysusers.d/begawi.conf"
	install -D -m 0644 systemd/begawi.tmpfiles.conf "$(DESTDIR)$(PREFIX)/lib/tmpfiles.d/begawi.conf"
	install -D -m 0644 config/hub.example.toml "$(DESTDIR)$(PREFIX)/share/begawi/hub.example.toml"
	install -D -m 0644 config/site.example.toml "$(DESTDIR)$(PREFIX)/share/begawi/site.example.toml"
	install -D -m 0644 config/handak-begawi.json "$(DESTDIR)$(PREFIX)/share/begawi/handak-begawi.json"
	install -D -m 0644 config/schema.example.json "$(DESTDIR)$(PREFIX)/share/begawi/schema.example.json"
	install -D -m 0644 README.md "$(DESTDIR)$(PREFIX)/share/doc/begawi/README.md"
	install -d -m 0755 "$(DESTDIR)$(PREFIX)/share/doc/begawi/docs"
	install -m 0644 docs/*.md "$(DESTDIR)$(PREFIX)/share/doc/begawi/docs/"
	install -d -m 0750 "$(DESTDIR)/etc/begawi/credentials"

# A Debian package (DEB_DIR/begawi_VERSION_ARCH.deb) of the release build, or of the binary named
# by BIN=... (the test suite packages its debug build: the Swift runtime is linked into both). It
# depends only on Debian's libraries; installing it creates the user, its folders and the units,
# and enables or starts nothing. DEB_COMPRESS=none|gzip|xz|zstd (xz by default).
DEB_DIR ?= .build/deb
DEB_COMPRESS ?= xz
deb: deb-deps
ifneq ($(origin BIN),command line)
	$(MAKE) release
endif
	rm -rf "$(DEB_DIR)/debian"
	$(MAKE) -s install-files BIN="$(BIN)" DESTDIR="$(abspath $(DEB_DIR))/debian/begawi" PREFIX=/usr
	packaging/debian/build-deb "$(DEB_DIR)" "$(DEB_COMPRESS)"

clean:
	rm -rf .build
