# Per-target settings shared by every meshloop target: warnings (errors under MESHLOOP_WERROR) and sanitizers.
# Only target_* commands: nothing here touches global flags.
function(meshloop_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                         -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough)
  if(MESHLOOP_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(MESHLOOP_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()

# meshloop_module(NAME SOURCES ... DEPS ...): a static library meshloop_<NAME> with the alias meshloop::<NAME>.
function(meshloop_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(meshloop_${name} STATIC ${ARG_SOURCES})
  add_library(meshloop::${name} ALIAS meshloop_${name})
  target_include_directories(meshloop_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(meshloop_${name} PUBLIC ${ARG_DEPS})
  meshloop_target_defaults(meshloop_${name})
endfunction()

# meshloop_test(NAME SOURCES ... DEPS ... LABELS ...): one GoogleTest binary, registered with CTest.
function(meshloop_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  meshloop_target_defaults(${name})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  include(GoogleTest)
  # Test names carry their binary ("mesh_node_tests.NodeTest.X"), so `ctest -R rag` selects a module's tests.
  gtest_discover_tests(${name} TEST_PREFIX "${name}." PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
                       ENVIRONMENT "MESHLOOP_BIN=$<TARGET_FILE:meshloop>;MESHLOOP_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
                       DISCOVERY_TIMEOUT 30)
endfunction()
