# chatgate_warnings: the warning flags every chatgate target compiles with.
add_library(chatgate_warnings INTERFACE)
target_compile_options(chatgate_warnings INTERFACE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wnon-virtual-dtor -Wno-missing-field-initializers>
    $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<CXX_COMPILER_ID:GNU>>:-Wshadow=local>  # GCC's spelling
    # GCC's false positive on every Asio coroutine frame once inlined (-O2): the frame's
    # operator new and sized operator delete (Asio's recycling allocator) look mismatched to
    # it. GCC bug 109224; clang has no such check.
    $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<CXX_COMPILER_ID:GNU>>:-Wno-mismatched-new-delete>
    $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${CHATGATE_WARNINGS_AS_ERRORS}>>:-Werror>)

# chatgate_sanitizers: instrumentation chosen by CHATGATE_SANITIZE.
add_library(chatgate_sanitizers INTERFACE)
if(CHATGATE_SANITIZE)
    string(REPLACE ";" "," sanitizers "${CHATGATE_SANITIZE}")
    target_compile_options(chatgate_sanitizers INTERFACE -fsanitize=${sanitizers} -fno-omit-frame-pointer)
    target_link_options(chatgate_sanitizers INTERFACE -fsanitize=${sanitizers})
    # GCC 12 warns (-Wtsan) that TSan does not model std::atomic_thread_fence, at each fence
    # inlined from Asio's completion handlers (detail/std_fenced_block.hpp), hundreds per build;
    # none is in chatgate's code, and with warnings as errors they stop the TSan build.
    if(CHATGATE_SANITIZE MATCHES "thread" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
        target_compile_options(chatgate_sanitizers INTERFACE -Wno-tsan)
    endif()
endif()
