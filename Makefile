# Thin wrapper over Meson for the README's two commands.
#   make run    install what is missing, build, run on the built-in config
#   make check  install what is missing, build, run every test (also under ASan+UBSan)
#   make deb    the Debian package, hikyaku_VERSION_ARCH.deb

BUILD      ?= build
ASAN_BUILD ?= build-asan
PYTHON     ?= /usr/bin/python3

.PHONY: all deps test-deps build run check fuzz bench clean deb

all: build

deps:
	@scripts/install-deps.sh build

test-deps:
	@scripts/install-deps.sh test

$(BUILD)/build.ninja:
	meson setup $(BUILD)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

run: build
	./$(BUILD)/hikyaku serve

check: test-deps
	scripts/check.sh

# Benchmarks against Postfix (and OpenSMTPD, Exim) at default settings:
# docs/PERFORMANCE.md. About 45 minutes on 2 cores; never part of make check.
bench: test-deps build
	@scripts/install-deps.sh bench
	bench/run.py $(BENCH_ARGS)

# The Debian package, hikyaku_VERSION_ARCH.deb, here (apt install ./hikyaku_*.deb).
deb:
	scripts/make-deb.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-deb

# Long fuzzing: make fuzz FUZZ_SECONDS=3600 (new inputs go to build-asan/fuzz-out).
FUZZ_SECONDS ?= 600
fuzz: test-deps
	@[ -f $(ASAN_BUILD)/build.ninja ] || CC=clang meson setup $(ASAN_BUILD) \
		-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug -Dfuzz=true
	ninja -C $(ASAN_BUILD)
	@for t in $(ASAN_BUILD)/tests/fuzz/fuzz_*; do [ -f $$t ] || continue; n=$$(basename $$t); \
		mkdir -p $(ASAN_BUILD)/fuzz-out/$$n; \
		echo "== $$n for $(FUZZ_SECONDS) s"; \
		$$t -max_total_time=$(FUZZ_SECONDS) $(ASAN_BUILD)/fuzz-out/$$n tests/fuzz/corpus/$$n || exit 1; \
	done
