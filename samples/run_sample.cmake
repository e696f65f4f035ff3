# run_sample.cmake — how ctest runs one sample.
#
#   cmake -DPROGRAM=<executable> [-DEXPECT=<regex>;<regex>…] -P run_sample.cmake
#
# Passes when the program exits 0 and its standard output matches every regular
# expression in EXPECT. (ctest's PASS_REGULAR_EXPRESSION alone would ignore the exit
# status, which is the samples' own verdict.) The output is echoed for the log.
if(NOT DEFINED PROGRAM)
  message(FATAL_ERROR "run_sample.cmake: PROGRAM is not set")
endif()

execute_process(COMMAND "${PROGRAM}"
  RESULT_VARIABLE status
  OUTPUT_VARIABLE output
  ECHO_OUTPUT_VARIABLE
  TIMEOUT 50)

if(NOT status STREQUAL "0")
  message(FATAL_ERROR "${PROGRAM}: exit status '${status}', expected 0")
endif()
foreach(regex IN LISTS EXPECT)
  if(NOT output MATCHES "${regex}")
    message(FATAL_ERROR "${PROGRAM}: output does not match: ${regex}")
  endif()
endforeach()
