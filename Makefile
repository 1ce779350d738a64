# The two commands: `make run` (install, build, serve on 127.0.0.1:8000) and `make test`
# (everything CI runs). `make check` is the quicker release-only test loop.
#
# Each build is a configure preset in CMakePresets.json, with its own directory:
#   release  build/        GCC -O2, no tests          make build, make run, make bench
#   check    build-check/  GCC -O2, every test        make check
#   asan     build-asan/   clang-14, ASan+UBSan, the libFuzzer targets, the server, the units
#                                                     make test-fuzz, make test-asan
#   tsan     build-tsan/   GCC, TSan, the server and the concurrency tests
#                                                     make test-tsan
# The builds of `make test` treat warnings as errors. All compile through ccache when it is
# installed (the test packages include it).
LISTEN ?= 127.0.0.1:8000
DATA_DIR ?= data
# Seconds each fuzz target runs in `make test`.
FUZZ_SECONDS ?= 25
CLANG_FORMAT ?= clang-format-14

.PHONY: all deps test-deps bench-deps build run check test asan-build test-fuzz test-asan \
	test-tsan bench format clean

all: build

deps:
	scripts/install-deps.sh build

test-deps:
	scripts/install-deps.sh test

bench-deps:
	scripts/install-deps.sh bench

build/build.ninja:
	cmake --preset release

# Only builds; `make run` and `make test` install what is missing first.
build: build/build.ninja
	cmake --build --preset release

run: deps
	$(MAKE) build
	build/chatgate serve --listen $(LISTEN) --data-dir $(DATA_DIR)

# Release build with the tests: unit, black-box (pytest), browser, OpenAI client, lint (the
# layer rule test and clang-format).
check: test-deps
	cmake --preset check
	cmake --build --preset check
	ctest --preset check

# Everything CI runs (.ci/run): `check`, then the fuzzers and the unit and black-box tests on
# ASan+UBSan (one build), and the concurrency tests on TSan. The sanitizer builds build only the
# targets they run (the build presets list them).
test: check
	$(MAKE) test-fuzz test-asan test-tsan

asan-build:
	cmake --preset asan -DCHATGATE_FUZZ_SECONDS=$(FUZZ_SECONDS)
	cmake --build --preset asan

# libFuzzer targets, each for FUZZ_SECONDS from its seed corpus in tests/fuzz/corpus/.
test-fuzz: asan-build
	ctest --preset fuzz

test-asan: asan-build
	ctest --preset asan

test-tsan:
	cmake --preset tsan
	cmake --build --preset tsan
	ctest --preset tsan

bench: bench-deps
	$(MAKE) build
	bench/run.sh

format:
	git ls-files '*.cpp' '*.hpp' | xargs $(CLANG_FORMAT) -i

clean:
	rm -rf build build-check build-asan build-tsan build-fuzz
