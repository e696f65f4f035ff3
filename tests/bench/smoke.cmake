# smoke.cmake — run `bench_ctx --quick` and check it prints a well-formed line for
# every operation. Never looks at the numbers' values: timings are not tested.
#   cmake -DBENCH=/path/to/bench_ctx -P smoke.cmake
execute_process(COMMAND ${BENCH} --quick
  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "bench_ctx --quick exited with ${rc}\n${out}\n${err}")
endif()

set(expected
  "with_cancel ns/op"
  "with_cancel_child ns/op"
  "with_timeout ns/op"
  "done_check ns/op"
  "value_depth8 ns/op"
  "tree_cancel_1000x100 ns/tree"
  "tree_cancel_1000x100_per_node ns/node"
  "two_threads_shared_parent ns/op"
  "bytes_per_cancel_ctx B/ctx"
  "allocs_per_cancel_ctx allocs/ctx"
  "reqbytes_per_cancel_ctx B/ctx"
  "bytes_per_child_ctx B/ctx"
  "allocs_per_child_ctx allocs/ctx"
  "reqbytes_per_child_ctx B/ctx"
  "bytes_per_timeout_ctx B/ctx"
  "allocs_per_timeout_ctx allocs/ctx"
  "reqbytes_per_timeout_ctx B/ctx")
set(missing "")
foreach(item IN LISTS expected)
  string(REPLACE " " ";" parts "${item}")
  list(GET parts 0 name)
  list(GET parts 1 unit)
  # <name> <number or nan> <unit> <count>
  if(NOT out MATCHES "(^|\n)${name} (-?[0-9]+(\\.[0-9]+)?|nan) ${unit} [0-9]+\n")
    string(APPEND missing "  ${name} (${unit})\n")
  endif()
endforeach()
if(missing)
  message(FATAL_ERROR "bench_ctx --quick did not print:\n${missing}output was:\n${out}")
endif()
list(LENGTH expected n)
message(STATUS "bench_ctx --quick printed all ${n} expected lines")
