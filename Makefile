# Thin wrapper over Meson for the README's two commands.
#   make run    install what is missing, build, run on the built-in config
#   make check  install what is missing, build, run every test (also under ASan+UBSan)

BUILD      ?= build
ASAN_BUILD ?= build-asan
PYTHON     ?= /usr/bin/python3

.PHONY: all deps test-deps build run check unit integration asan clean

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

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
