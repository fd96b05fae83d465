# Sanitizer and fuzzing builds (CMakePresets.json: asan, tsan, fuzz).
#   ANF_SANITIZERS   comma-separated -fsanitize= list for every target ("address,undefined", "thread"); empty: none.
#   ANF_BUILD_FUZZERS  builds the fuzz_* targets (clang + libFuzzer) under tests/reliability/fuzz; the libraries
#                      get -fsanitize=fuzzer-no-link so libFuzzer sees their coverage.
set(ANF_SANITIZERS "" CACHE STRING "Comma-separated sanitizers for -fsanitize= (address,undefined | thread)")
option(ANF_BUILD_FUZZERS "Build the fuzz_* targets (clang with libFuzzer)" OFF)



if(ANF_SANITIZERS)
  # Frame pointers for readable stacks; UB stops the test (a report alone would let a suite pass).
  add_compile_options(-fsanitize=${ANF_SANITIZERS} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${ANF_SANITIZERS})
  if(ANF_SANITIZERS MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
  # The test presets send every report to sanitizer-reports/report.<pid> (log_path): the emulator and daemon that
  # tests start write stderr to temp logs and their exit codes go unchecked, so a report of theirs would be lost.
  file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/sanitizer-reports)
  # OpenSSL initialised before main, so its exit-time cleanup runs after cpprestsdk's pool threads are joined and
  # their OpenSSL state is freed (sanitizers/openssl_exit_order.cc): no leak suppression for it, none of the slow
  # full-stack unwinding on every malloc that such a suppression needs to match.
  find_package(OpenSSL REQUIRED)
  add_library(anf_openssl_exit_order OBJECT ${CMAKE_CURRENT_LIST_DIR}/sanitizers/openssl_exit_order.cc)
  target_link_libraries(anf_openssl_exit_order PUBLIC OpenSSL::SSL)
  link_libraries(anf_openssl_exit_order)
endif()

if(ANF_BUILD_FUZZERS)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "ANF_BUILD_FUZZERS needs clang (libFuzzer); got ${CMAKE_CXX_COMPILER_ID}")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

# clang (not gcc) instantiates libstdc++ 12's C++23 constexpr ~unique_ptr eagerly, which cpprestsdk's json.h cannot
# take (unique_ptr of an incomplete type). Every translation unit gets the C++20 (non-constexpr) members alike.
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  add_compile_definitions(_GLIBCXX23_CONSTEXPR=)
endif()
