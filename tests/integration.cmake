# Integration tests that run the kioku command itself (included by tests/CMakeLists.txt):
#   parity_NAME   kioku (NAME.kio, and NAME.c built for riscv64) against NAME.expected, recorded
#                 from Linux (compare.sh)
#   parity_pressure_CASE  a program under `kioku run --mem` against its output recorded from Linux
#                 in a memory cgroup (pressure/compare.sh)
#   example_NAME  examples/NAME.kio must hold every expectation (exit status 0)
#   cli_...       the command's usage errors: exit status 2 and the documented message
# Run them with `ctest -R 'parity_|example_|cli_'`.

set(_kioku $<TARGET_FILE:kioku>)
set(_parity_dir ${CMAKE_CURRENT_SOURCE_DIR}/parity)
set(_check_exit ${CMAKE_CURRENT_SOURCE_DIR}/cli/check_exit.sh)

# One test per parity program that has a scenario twin. Nothing runs on the host kernel: the
# recording is the reference (scripts/host-check.sh compares the live host with it).
file(GLOB _parity_programs CONFIGURE_DEPENDS ${_parity_dir}/*.kio)
foreach(_kio ${_parity_programs})
  get_filename_component(_name ${_kio} NAME_WE)
  if(EXISTS ${_parity_dir}/${_name}.c)
    add_test(NAME parity_${_name}
             COMMAND ${_parity_dir}/compare.sh ${_kioku} ${CMAKE_CURRENT_BINARY_DIR}/parity/${_name} ${_name})
    set_tests_properties(parity_${_name} PROPERTIES LABELS "parity" TIMEOUT 120)
  endif()
endforeach()

# Memory-pressure parity (tests/parity/pressure): one test per recorded case. They touch no host
# cgroup or swap, so they need no privilege.
file(GLOB _pressure_cases CONFIGURE_DEPENDS ${_parity_dir}/pressure/*.expected)
foreach(_expected ${_pressure_cases})
  get_filename_component(_case ${_expected} NAME_WE)
  add_test(NAME parity_pressure_${_case}
           COMMAND ${_parity_dir}/pressure/compare.sh ${_kioku}
                   ${CMAKE_CURRENT_BINARY_DIR}/parity/pressure/${_case} ${_case})
  set_tests_properties(parity_pressure_${_case} PROPERTIES LABELS "parity" TIMEOUT 300)
endforeach()

file(GLOB _examples CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/examples/*.kio)
foreach(_kio ${_examples})
  get_filename_component(_name ${_kio} NAME_WE)
  add_test(NAME example_${_name} COMMAND ${_kioku} scenario ${_kio} --quiet --check)
  set_tests_properties(example_${_name} PROPERTIES LABELS "example" TIMEOUT 120)
endforeach()

# Pictures of physical memory: example 18 drawn before and after compaction (check_pictures.py).
find_program(KIOKU_SYSTEM_PYTHON /usr/bin/python3 NO_DEFAULT_PATH)
add_test(NAME cli_pictures
         COMMAND ${KIOKU_SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/cli/check_pictures.py ${_kioku}
                 ${CMAKE_SOURCE_DIR}/examples/18_fragmentation_compaction.kio ${CMAKE_CURRENT_BINARY_DIR}/cli/pictures)
set_tests_properties(cli_pictures PROPERTIES LABELS "cli" TIMEOUT 120)

# The guided demo checks what each step shows and exits non-zero when a check fails.
add_test(NAME cli_demo COMMAND ${_kioku} demo)
add_test(NAME cli_demo_sv39 COMMAND ${_kioku} demo --mem 1G --paging sv39)
set_tests_properties(cli_demo cli_demo_sv39 PROPERTIES LABELS "cli" TIMEOUT 120)

# Usage errors. A malformed scenario is written at configure time: line 2 names no command and
# line 3 has a bad size; both must be reported as file:line: message, and nothing may run.
set(_malformed ${CMAKE_CURRENT_BINARY_DIR}/cli/malformed.kio)
file(WRITE ${_malformed} "spawn A\nfrobnicate A\nmmap A name=buf len=12Q\n")
set(_missing ${CMAKE_CURRENT_BINARY_DIR}/cli/no_such_file.kio)

add_test(NAME cli_unknown_option
         COMMAND ${_check_exit} 2 "kioku: unknown option '--frobnicate'" "usage: kioku <command> .*"
                 -- ${_kioku} --frobnicate)
add_test(NAME cli_bad_mem_size
         COMMAND ${_check_exit} 2 "kioku: bad memory size '12Q' .*"
                 -- ${_kioku} scenario ${_parity_dir}/demand_paging.kio --mem 12Q)
add_test(NAME cli_scenario_missing_file
         COMMAND ${_check_exit} 2 ".*no_such_file\\.kio: cannot read the file"
                 -- ${_kioku} scenario ${_missing})
add_test(NAME cli_scenario_malformed_line
         COMMAND ${_check_exit} 2 ".*malformed\\.kio:2: unknown command 'frobnicate'"
                 ".*malformed\\.kio:3: bad number '12Q'"
                 -- ${_kioku} scenario ${_malformed})
add_test(NAME cli_scenario_without_file
         COMMAND ${_check_exit} 2 "kioku: scenario takes exactly one file" -- ${_kioku} scenario)
# A seed that is no number: refused, not taken as 0.
add_test(NAME cli_run_bad_seed
         COMMAND ${_check_exit} 2 "kioku: bad seed 'zz' .*" -- ${_kioku} run --seed zz -- /bin/true)
# A TMPDIR that does not exist: a clear error, not an abort from the standard library.
add_test(NAME cli_run_missing_tmpdir
         COMMAND ${_check_exit} 2 "kioku: cannot create the machine: no temporary directory .*"
                 -- env TMPDIR=${CMAKE_CURRENT_BINARY_DIR}/cli/no_such_dir ${_kioku} run -- /bin/true)
# kioku run --trace against qemu-riscv64's instruction log (scripts/lockstep.sh).
add_test(NAME cli_run_trace_lockstep
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tools/lockstep_test.sh ${_kioku}
                 ${CMAKE_CURRENT_BINARY_DIR}/tools/lockstep)
set_tests_properties(cli_run_trace_lockstep PROPERTIES LABELS "cli" TIMEOUT 120)
set_tests_properties(cli_unknown_option cli_bad_mem_size cli_scenario_missing_file
                     cli_scenario_malformed_line cli_scenario_without_file cli_run_missing_tmpdir
                     cli_run_bad_seed
                     PROPERTIES LABELS "cli" TIMEOUT 30)
