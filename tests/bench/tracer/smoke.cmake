# smoke.cmake — the tracer benchmarks' programs run under `ctxtrace run` and leave
# complete trace files. Asserts correctness only (every event kept, one row per context
# created, every context freed), never timings.
#
#   cmake -DCTXTRACE=... -DREQUEST_LOOP=... -DLIFECYCLE=... -DSQLITE3=... -DWORK=dir
#         -P smoke.cmake
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})

function(query db sql outvar)
  execute_process(COMMAND ${SQLITE3} ${db} "${sql}"
    OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "sqlite3 ${db} '${sql}' failed (${rc}): ${err}")
  endif()
  set(${outvar} "${out}" PARENT_SCOPE)
endfunction()

function(expect what actual expected)
  if(NOT "${actual}" STREQUAL "${expected}")
    message(FATAL_ERROR "${what}: got '${actual}', expected '${expected}'")
  endif()
endfunction()

# run_traced(name program args...): run under ctxtrace, require exit 0 and the output
# keys; sets <name>_out and <name>_db.
function(run_traced name)
  set(db ${WORK}/${name}.db)
  execute_process(COMMAND ${CTXTRACE} run -o ${db} -- ${ARGN}
    OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "ctxtrace run -- ${ARGN}: exit ${rc}\n${out}\n${err}")
  endif()
  if(NOT EXISTS ${db})
    message(FATAL_ERROR "ctxtrace run -- ${ARGN}: no trace file ${db}\n${err}")
  endif()
  set(${name}_out "${out}" PARENT_SCOPE)
  set(${name}_db "${db}" PARENT_SCOPE)
endfunction()

# The trace of `db` is complete and has exactly `contexts` contexts besides the roots.
function(check_trace name db contexts)
  query(${db} "select value from meta where key='complete'" complete)
  expect("${name}: meta.complete" "${complete}" 1)
  query(${db} "select value from meta where key='events_dropped'" dropped)
  expect("${name}: meta.events_dropped" "${dropped}" 0)
  query(${db} "select count(*) from contexts where id > 2" rows)
  expect("${name}: context rows" "${rows}" ${contexts})
  query(${db} "select count(*) from contexts where id > 2 and freed_ns is null" unfreed)
  expect("${name}: contexts never freed" "${unfreed}" 0)
  query(${db} "select count(*) from contexts where id > 2 and create_stack is null" nostack)
  expect("${name}: contexts without a creation stack" "${nostack}" 0)
endfunction()

# request_loop: 4 contexts per request, plus the server context.
run_traced(loop ${REQUEST_LOOP} --requests 300 --body 256)
foreach(key requests contexts_created loop_s ns_per_request requests_per_s checksum)
  if(NOT loop_out MATCHES "(^|\n)${key} [0-9a-fx.]+\n")
    message(FATAL_ERROR "request_loop did not print '${key}':\n${loop_out}")
  endif()
endforeach()
string(REGEX MATCH "contexts_created ([0-9]+)" _ "${loop_out}")
expect("request_loop: contexts_created" "${CMAKE_MATCH_1}" 1201)
check_trace(request_loop ${loop_db} 1201)

# lifecycle: one context per lifecycle, (warmup + bursts) × burst, plus the parent.
run_traced(life ${LIFECYCLE} --variant cancel --depth 12 --bursts 3 --burst 20
           --pause-ms 1 --warmup 1 --settle-ms 1)
foreach(key variant depth bursts burst ns_per_lifecycle_median ns_per_lifecycle_min)
  if(NOT life_out MATCHES "(^|\n)${key} [a-z0-9.]+\n")
    message(FATAL_ERROR "lifecycle did not print '${key}':\n${life_out}")
  endif()
endforeach()
check_trace(lifecycle ${life_db} 81)

message(STATUS "request_loop and lifecycle: complete traces, no event dropped")
