# The two commands: `make run` (install, build, serve on 127.0.0.1:8000) and `make test`
# (everything CI runs). `make check` is the quicker release-only test loop.
BUILD_DIR ?= build
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release
LISTEN ?= 127.0.0.1:8000
DATA_DIR ?= data
# Seconds each fuzz target runs in `make test`.
FUZZ_SECONDS ?= 25

.PHONY: all deps test-deps bench-deps build run check test test-fuzz test-asan test-tsan bench \
	format clean

all: build

deps:
	scripts/install-deps.sh build

test-deps:
	scripts/install-deps.sh test

bench-deps:
	scripts/install-deps.sh bench

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja $(CMAKE_FLAGS)

# Only builds; `make run` and `make test` install what is missing first.
build: $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR)

run: deps
	$(MAKE) build
	$(BUILD_DIR)/chatgate serve --listen $(LISTEN) --data-dir $(DATA_DIR)

# Release build: unit, black-box (pytest) and browser tests.
check: test-deps
	$(MAKE) build
	ctest --test-dir $(BUILD_DIR) --output-on-failure

# Everything CI runs (.ci/run): `check`, then the fuzzers, the unit and black-box tests on
# ASan+UBSan, and the concurrency tests on TSan. Each sanitizer build has its own directory
# (CMakePresets.json) and builds only the targets it runs.
test: check
	$(MAKE) test-fuzz test-asan test-tsan

# libFuzzer targets (clang), each for FUZZ_SECONDS from its seed corpus in tests/fuzz/corpus/.
test-fuzz:
	cmake --preset fuzz -DCHATGATE_FUZZ_SECONDS=$(FUZZ_SECONDS)
	cmake --build --preset fuzz --target fuzzers
	ctest --preset fuzz

test-asan:
	cmake --preset asan
	cmake --build --preset asan --target chatgate chatgate_unit_tests
	ctest --preset asan

test-tsan:
	cmake --preset tsan
	cmake --build --preset tsan --target chatgate chatgate_concurrency_tests
	ctest --preset tsan

bench: bench-deps
	$(MAKE) build
	bench/run.sh

format:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) build-asan build-tsan build-fuzz
