# Optimisation and debug info per build type, where the cache still holds CMake's defaults (a
# value given on the command line or in a preset is kept):
# - Release at -O2, as docs/architecture.md states (CMake's default is -O3).
# - Debug builds with a sanitizer (the `asan` and `tsan` presets, which add -O1) keep line
#   tables only: what the reports' stack traces use, at a fraction of the size and link time
#   of full -g. -gline-tables-only is clang's; -g1 is GCC's closest.
if(CMAKE_CXX_FLAGS_RELEASE STREQUAL "-O3 -DNDEBUG")
    set_property(CACHE CMAKE_CXX_FLAGS_RELEASE PROPERTY VALUE "-O2 -DNDEBUG")
endif()
if(CHATGATE_SANITIZE AND CMAKE_CXX_FLAGS_DEBUG STREQUAL "-g")
    if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
        set_property(CACHE CMAKE_CXX_FLAGS_DEBUG PROPERTY VALUE "-gline-tables-only")
    else()
        set_property(CACHE CMAKE_CXX_FLAGS_DEBUG PROPERTY VALUE "-g1")
    endif()
endif()
