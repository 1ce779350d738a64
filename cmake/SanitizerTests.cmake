# Tests for the ThreadSanitizer build (label `concurrency`, run by `make test-tsan`): the unit
# tests that exercise threads (the work pools, the rate limiter, group commit, the checkpointer,
# concurrent ledger, key-limit, admin changes and code claims) in their own small executable, so the TSan
# build compiles only those, and the black-box concurrency module against the TSan binary. A test file with concurrency cases joins by being listed here.
if(CHATGATE_SANITIZE MATCHES "thread")
    add_executable(chatgate_concurrency_tests
        unit/core/work_pool_test.cpp
        unit/guards/rate_limiter_test.cpp
        unit/storage/checkpointer_test.cpp
        unit/storage/ledger_test.cpp
        unit/storage/operators_store_test.cpp
        unit/storage/payment_store_test.cpp)
    target_include_directories(chatgate_concurrency_tests PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
    target_link_libraries(chatgate_concurrency_tests PRIVATE
        chatgate_storage chatgate_security chatgate_domain chatgate_guards chatgate_config
        chatgate_core
        GTest::gtest_main chatgate_warnings)
    add_test(NAME concurrency_unit COMMAND chatgate_concurrency_tests)
    add_test(NAME concurrency_integration
        COMMAND /usr/bin/python3 -m pytest -q -p no:cacheprovider
                tests/integration/test_concurrency.py --server $<TARGET_FILE:chatgate>
        WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
    set_tests_properties(concurrency_unit concurrency_integration
        PROPERTIES LABELS concurrency TIMEOUT 900)
endif()
