# ctxtraceSoak.cmake — ctxtrace_add_soak_test(), shipped with the installed CMake package
# (find_package(ctxtrace) includes it). One line in a project's CMakeLists.txt adds a
# ctest test that fails when the program's live contexts, armed timers, blocked waiters,
# threads, open fds or RSS grow, or when its trace has findings (`ctxtrace soak`,
# docs/soak.md):
#
#   ctxtrace_add_soak_test(server_soak COMMAND my_server --port 0 DURATION 30 WARMUP 5)
#
#   NAME                  the test's name
#   COMMAND prog args...  what to run; a target name as prog means its built file
#   DURATION s            how long to run it (default 30); it is then stopped (SIGTERM)
#   WARMUP s              seconds not judged at the start (default 5)
#   INTERVAL ms           sampling period (default 100)
#   NO_FINDINGS           judge growth only (the findings are printed, not judged)
#
# The test passes when nothing grows and there are no findings (exit 0), and fails when
# something grows or findings remain (1) or on error (2). Beside the build's test files it leaves NAME.soak.db (the trace: open it with
# `ctxtrace report` or ctxtrace-inspector) and NAME.soak.json (samples, decision, sites).
# CTXTRACE_EXECUTABLE is the ctxtrace command used; set it before the call to use another.
function(ctxtrace_add_soak_test name)
  cmake_parse_arguments(PARSE_ARGV 1 SOAK "NO_FINDINGS" "DURATION;WARMUP;INTERVAL" "COMMAND")
  if(NOT SOAK_COMMAND)
    message(FATAL_ERROR "ctxtrace_add_soak_test(${name}): COMMAND is required")
  endif()
  if(SOAK_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "ctxtrace_add_soak_test(${name}): unknown arguments: ${SOAK_UNPARSED_ARGUMENTS}")
  endif()
  foreach(opt DURATION WARMUP INTERVAL)
    if(DEFINED SOAK_${opt} AND NOT SOAK_${opt} MATCHES "^[0-9]+(\\.[0-9]+)?$")
      message(FATAL_ERROR "ctxtrace_add_soak_test(${name}): ${opt} must be a number, not '${SOAK_${opt}}'")
    endif()
  endforeach()
  if(NOT DEFINED SOAK_DURATION)
    set(SOAK_DURATION 30)
  endif()
  if(NOT DEFINED SOAK_WARMUP)
    set(SOAK_WARMUP 5)
  endif()
  if(NOT DEFINED SOAK_INTERVAL)
    set(SOAK_INTERVAL 100)
  endif()
  list(POP_FRONT SOAK_COMMAND prog)
  if(TARGET ${prog})
    set(prog $<TARGET_FILE:${prog}>)
  endif()
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${name}.soak)
  set(judge "")
  if(SOAK_NO_FINDINGS)
    set(judge --no-findings)
  endif()
  add_test(NAME ${name}
    COMMAND ${CTXTRACE_EXECUTABLE} soak --duration ${SOAK_DURATION} --warmup ${SOAK_WARMUP}
            --interval ${SOAK_INTERVAL} ${judge} --json ${out}.json -o ${out}.db
            -- ${prog} ${SOAK_COMMAND})
  # Room for the run, the stop (SIGTERM, then SIGKILL after 5 s) and the judging.
  string(REGEX REPLACE "\\..*$" "" whole "${SOAK_DURATION}")
  math(EXPR timeout "${whole} + 61")
  set_tests_properties(${name} PROPERTIES LABELS soak TIMEOUT ${timeout})
endfunction()
