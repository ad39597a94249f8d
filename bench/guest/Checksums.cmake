# The guest benchmark programs (bench/guest/*.c) as tests: each is built for riscv64 and for the
# host, run at size 1 on kioku and natively, and must print the same checksum. Included from
# tests/guest/CMakeLists.txt, which has found the cross compiler (KIOKU_RISCV_CC); each program is
# also listed in host-check/bench.list for scripts/host-check.sh, which runs it under qemu-riscv64.
# Timing is bench/guest.sh's job.
set(_bench_guest_dir ${PROJECT_SOURCE_DIR}/bench/guest)
file(GLOB _bench_guest_sources CONFIGURE_DEPENDS ${_bench_guest_dir}/*.c)
set(_bench_guest_bins)
set(_bench_host_check_list)
foreach(src ${_bench_guest_sources})
  get_filename_component(name ${src} NAME_WE)
  set(rv ${CMAKE_CURRENT_BINARY_DIR}/bench/${name}.rv)
  add_custom_command(
    OUTPUT ${rv}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/bench
    COMMAND ${KIOKU_RISCV_CC} -O2 -Wall -Wextra -static -o ${rv} ${src}
    DEPENDS ${src} ${_bench_guest_dir}/common.h
    COMMENT "riscv64 guest benchmark ${name}")
  list(APPEND _bench_guest_bins ${rv})
  add_executable(bench_guest_${name} ${src})
  set_target_properties(bench_guest_${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/bench
                                                       OUTPUT_NAME ${name}.native)
  add_test(NAME guest.bench.${name}
           COMMAND sh ${_bench_guest_dir}/check.sh kioku $<TARGET_FILE:kioku> ${rv}
                   $<TARGET_FILE:bench_guest_${name}> 1)
  set_tests_properties(guest.bench.${name} PROPERTIES LABELS guest TIMEOUT 120)
  string(APPEND _bench_host_check_list "${name}|${rv}|$<TARGET_FILE:bench_guest_${name}>\n")
endforeach()
# One line per program: NAME|riscv64 binary|native binary.
file(GENERATE OUTPUT ${KIOKU_HOST_CHECK_DIR}/bench.list CONTENT "${_bench_host_check_list}")
add_custom_target(guest_bench_programs ALL DEPENDS ${_bench_guest_bins})
