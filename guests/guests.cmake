# The guest workloads: freestanding C linked at SV_GUEST_IMAGE into one
# static ELF with the project's linker script, then embedded in the library
# as a byte array (so an installed simvirt needs no file beside it).  Built
# with the host compiler but none of the project's flags: no sanitizers, no
# PIC, no SSE, no red zone (the library delivers exceptions on the stack).
# Included from lib/CMakeLists.txt, so that the generated source belongs
# to the directory of the target that compiles it.
set(SV_GUEST_DIR ${CMAKE_CURRENT_LIST_DIR})
set(SV_GUEST_FLAGS -std=gnu11 -O2 -ffreestanding -nostdlib -static -fno-pic
    -fno-pie -no-pie -mcmodel=kernel -mno-red-zone -mgeneral-regs-only
    -fno-stack-protector -fno-asynchronous-unwind-tables -fno-builtin
    -Wall -Wextra -Werror -Wl,--build-id=none -Wl,-z,max-page-size=4096
    -Wl,-z,noexecstack)
# The same compiler for every build tree (a clang fuzzing tree included),
# so that a scenario's instruction and cycle counts do not depend on it.
set(SV_GUEST_CC ${CMAKE_C_COMPILER})
if(CMAKE_C_COMPILER_ID MATCHES "Clang")
  find_program(SV_GUEST_GCC gcc)
  if(SV_GUEST_GCC)
    set(SV_GUEST_CC ${SV_GUEST_GCC})
  else()
    list(APPEND SV_GUEST_FLAGS -Wno-unused-command-line-argument)
  endif()
endif()
set(SV_GUEST_SOURCES ${SV_GUEST_DIR}/start.S
    ${SV_GUEST_DIR}/workloads.c ${SV_GUEST_DIR}/events.S
    ${SV_GUEST_DIR}/events.c)
file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/guests)
set(SV_GUEST_ELF ${CMAKE_CURRENT_BINARY_DIR}/guests/workloads.elf)
add_custom_command(OUTPUT ${SV_GUEST_ELF}
  COMMAND ${SV_GUEST_CC} ${SV_GUEST_FLAGS}
          -T ${SV_GUEST_DIR}/guest.ld -o ${SV_GUEST_ELF}
          ${SV_GUEST_SOURCES}
  DEPENDS ${SV_GUEST_SOURCES} ${SV_GUEST_DIR}/guest.ld
          ${SV_GUEST_DIR}/guest.h ${SV_GUEST_DIR}/abi.h ${SV_GUEST_DIR}/regs.inc
  COMMENT "Building the guest workloads" VERBATIM)
set(SV_GUEST_C ${CMAKE_CURRENT_BINARY_DIR}/guests/workloads_elf.c)
add_custom_command(OUTPUT ${SV_GUEST_C}
  COMMAND ${CMAKE_COMMAND} -DIN=${SV_GUEST_ELF} -DOUT=${SV_GUEST_C}
          -DNAME=sv_guests__image -P ${PROJECT_SOURCE_DIR}/cmake/bin2c.cmake
  DEPENDS ${SV_GUEST_ELF} ${PROJECT_SOURCE_DIR}/cmake/bin2c.cmake VERBATIM)
add_custom_target(simvirt_guests DEPENDS ${SV_GUEST_ELF} ${SV_GUEST_C})
