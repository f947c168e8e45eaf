# guests/programs/programs.cmake - real programs to run as guests
# (`simvirt exec`), built here as static executables: memcheck (the memory
# calls' effects, the ways a program ends) and sqlwork over Debian's
# libsqlite3.a.  Compiled by a command of their own, without the
# project's flags (a static executable cannot take the sanitizers).
# Sets SIMVIRT_MEMCHECK to memcheck's path (and builds memcheck-pie beside
# it), and SIMVIRT_SQLWORK to
# sqlwork's, or leaves that empty when libsqlite3.a is missing
# (scripts/install-deps.sh installs libsqlite3-dev).
set(SIMVIRT_MEMCHECK ${PROJECT_BINARY_DIR}/guests/programs/memcheck)
add_custom_command(OUTPUT ${SIMVIRT_MEMCHECK}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/guests/programs
  COMMAND ${CMAKE_C_COMPILER} -O1 -static
          ${PROJECT_SOURCE_DIR}/guests/programs/memcheck.c -o ${SIMVIRT_MEMCHECK}
  DEPENDS ${PROJECT_SOURCE_DIR}/guests/programs/memcheck.c
  COMMENT "Linking memcheck statically")
# the same as a static PIE (loaded at 0x555555554000, as Linux does)
add_custom_command(OUTPUT ${SIMVIRT_MEMCHECK}-pie
  COMMAND ${CMAKE_C_COMPILER} -O1 -static-pie
          ${PROJECT_SOURCE_DIR}/guests/programs/memcheck.c -o ${SIMVIRT_MEMCHECK}-pie
  DEPENDS ${PROJECT_SOURCE_DIR}/guests/programs/memcheck.c
  COMMENT "Linking memcheck as a static PIE")
add_custom_target(memcheck ALL DEPENDS ${SIMVIRT_MEMCHECK}
  ${SIMVIRT_MEMCHECK}-pie)
find_library(SIMVIRT_SQLITE3_A NAMES libsqlite3.a)
set(SIMVIRT_SQLWORK "")
if(SIMVIRT_SQLITE3_A)
  set(SIMVIRT_SQLWORK ${PROJECT_BINARY_DIR}/guests/programs/sqlwork)
  add_custom_command(OUTPUT ${SIMVIRT_SQLWORK}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/guests/programs
    COMMAND ${CMAKE_C_COMPILER} -O2 -static -w
            ${PROJECT_SOURCE_DIR}/guests/programs/sqlwork.c -o ${SIMVIRT_SQLWORK}
            ${SIMVIRT_SQLITE3_A} -lm
    DEPENDS ${PROJECT_SOURCE_DIR}/guests/programs/sqlwork.c
    COMMENT "Linking sqlwork statically against libsqlite3.a")
  add_custom_target(sqlwork ALL DEPENDS ${SIMVIRT_SQLWORK})
endif()
