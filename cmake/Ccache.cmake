# Compiles through ccache when it is installed (Debian's `ccache`, one of the test packages) and
# no other launcher was chosen. Paths under the source directory are hashed relative to it
# (base_dir), so clones in different directories share the cache; builds with debug info still
# hash the build directory (ccache's hash_dir), as the info records it.
option(CHATGATE_CCACHE "Compile through ccache when it is installed" ON)
if(CHATGATE_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
    find_program(CHATGATE_CCACHE_PROGRAM ccache)
    if(CHATGATE_CCACHE_PROGRAM)
        set(CMAKE_CXX_COMPILER_LAUNCHER
            /usr/bin/env "CCACHE_BASEDIR=${PROJECT_SOURCE_DIR}" "${CHATGATE_CCACHE_PROGRAM}")
    endif()
endif()
