# The quick start: `make run` and `make test` (see README.md).  Both install
# missing Debian packages first (scripts/install-deps.sh), configure with
# CMake and build.  WERROR=1 turns warnings into errors (CI sets it).
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
WERROR ?= 0
CMAKE_FLAGS = -DSIMVIRT_WERROR=$(if $(filter 1,$(WERROR)),ON,OFF)

.PHONY: all deps build run test test-asan fuzz bench clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/tools/simvirt/simvirt run

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

test-asan: deps
	cmake -S . -B $(ASAN_BUILD) $(CMAKE_FLAGS) -DSIMVIRT_SANITIZE=ON \
		-DSIMVIRT_BUILD_BENCH=OFF >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
		ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

# libFuzzer over the scenario parser and the trace reader (clang, ASan,
# UBSan), FUZZ_SECONDS each.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
fuzz: deps
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang $(CMAKE_FLAGS) \
		-DSIMVIRT_FUZZ=ON -DSIMVIRT_BUILD_TESTS=OFF -DSIMVIRT_BUILD_BENCH=OFF \
		-DSIMVIRT_BUILD_EXAMPLES=OFF >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	bash scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

bench: deps
	cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release \
		-DSIMVIRT_BUILD_TESTS=OFF >/dev/null
	cmake --build build-release -j $(JOBS)
	build-release/bench/bench_access
	build-release/bench/bench_hostmm
	build-release/bench/bench_mmu
	build-release/bench/bench_exec
	build-release/bench/bench_scenario
	build-release/bench/bench_trace
	build-release/bench/bench_program
	PYTHONPATH=build-release/python /usr/bin/python3 bench/bench_python.py \
		build-release/bench/bench_access

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) build-release
