# libFuzzer targets (tests/fuzz/). They need clang, so they live in the clang build (the `asan`
# preset): every layer there is compiled with coverage feedback for the fuzzer and with
# ASan+UBSan. The server and the unit tests of that build carry the same instrumentation (the
# coverage hooks are no-ops outside a fuzzer), so one build serves the fuzzers and the ASan runs.
option(CHATGATE_FUZZ "Build the libFuzzer targets in tests/fuzz (clang only)" OFF)
set(CHATGATE_FUZZ_SECONDS 25 CACHE STRING "How long each fuzz target runs under ctest")

if(CHATGATE_FUZZ)
    if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
        # A build directory keeps the compiler it was first configured with: build-asan/ from
        # before the fuzz and ASan builds were one holds GCC.
        message(FATAL_ERROR "CHATGATE_FUZZ needs clang (libFuzzer): use `cmake --preset asan`; "
                            "if this directory was configured with another compiler, remove it "
                            "(`make clean`) and configure again")
    endif()
    if(NOT CHATGATE_SANITIZE MATCHES "address")
        message(FATAL_ERROR "CHATGATE_FUZZ expects CHATGATE_SANITIZE='address;undefined'")
    endif()
    # Coverage instrumentation for every layer; the fuzzer's main() is linked only into the
    # targets. A UBSan finding must stop the run like a crash, or the fuzzer never reports it.
    # -fno-sanitize=function: clang 14 cannot assemble that check's prologue data for coroutine
    # functions once coverage instrumentation is on ("Cannot represent a difference across
    # sections"); it only checks calls through mistyped function pointers, which C++ code here
    # does not make.
    target_compile_options(chatgate_sanitizers INTERFACE
        -fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined -fno-sanitize=function)
endif()
