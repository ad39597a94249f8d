# The guest benchmark programs (bench/guest/*.c) as tests: each is built for riscv64 and for the
# host, run at size 1 on kioku, natively and on qemu-riscv64 (when installed), and must print the
# same checksum everywhere. Included from tests/guest/CMakeLists.txt, which has found the cross
# compiler (KIOKU_RISCV_CC) and qemu (KIOKU_QEMU_RISCV). Timing is bench/guest.sh's job.
set(_bench_guest_dir ${PROJECT_SOURCE_DIR}/bench/guest)
file(GLOB _bench_guest_sources CONFIGURE_DEPENDS ${_bench_guest_dir}/*.c)
set(_bench_guest_bins)
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
  set(qemu -)
  if(KIOKU_QEMU_RISCV)
    set(qemu ${KIOKU_QEMU_RISCV})
  endif()
  add_test(NAME guest.bench.${name}
           COMMAND sh ${_bench_guest_dir}/check.sh $<TARGET_FILE:kioku> ${rv} $<TARGET_FILE:bench_guest_${name}>
                   ${qemu} 1)
  set_tests_properties(guest.bench.${name} PROPERTIES LABELS guest TIMEOUT 120)
endforeach()
add_custom_target(guest_bench_programs ALL DEPENDS ${_bench_guest_bins})
