# The two commands: `make run` (install, build, serve on 127.0.0.1:8000) and `make test`.
BUILD_DIR ?= build
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release
LISTEN ?= 127.0.0.1:8000
DATA_DIR ?= data

.PHONY: all deps test-deps bench-deps build run test bench format clean

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

test: test-deps
	$(MAKE) build
	ctest --test-dir $(BUILD_DIR) --output-on-failure

bench: bench-deps
	$(MAKE) build
	bench/run.sh

format:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
