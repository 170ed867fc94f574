# Which Faiss bridgefeed links: Debian's generic package build, or the same Debian source
# version built with FAISS_OPT_LEVEL=avx2 by tools/build-faiss-avx2.sh (docs/faiss.md).
#
# Defines
#   bridgefeed::faiss          the chosen Faiss: library, headers, OpenMP, BLAS, and
#                              BRIDGEFEED_FAISS_BUILD="package" or "avx2"
#   bridgefeed::build_info     only the BRIDGEFEED_FAISS_BUILD definition, for code that
#                              reports it (INFO server, bench reports) without Faiss headers
#   bridgefeed::faiss_package  always Debian's build (for side-by-side benchmarks)
#   bridgefeed::faiss_avx2     the AVX2 build, when usable
#   BRIDGEFEED_FAISS_BUILD     "package" or "avx2"
# Link exactly one Faiss per executable: both archives define the same symbols.
#
# REQUIRES: find_package(OpenMP) and find_package(faiss CONFIG) already ran (the package's
# `faiss` target is the fallback and stays available under its own name).

set(BRIDGEFEED_FAISS "auto" CACHE STRING
    "Faiss to link: auto (AVX2 build when present, else package), package, avx2")
set_property(CACHE BRIDGEFEED_FAISS PROPERTY STRINGS auto package avx2)
set(BRIDGEFEED_FAISS_PREFIX "" CACHE PATH
    "Install prefix of the AVX2 Faiss build (empty: the cache folder tools/build-faiss-avx2.sh uses)")
if(NOT BRIDGEFEED_FAISS MATCHES "^(auto|package|avx2)$")
  message(FATAL_ERROR "BRIDGEFEED_FAISS must be auto, package or avx2, not '${BRIDGEFEED_FAISS}'")
endif()

# The prefix is not cached when derived: it names the Debian source version, so it follows
# Debian's updates on the next configure.
set(_bf_prefix "${BRIDGEFEED_FAISS_PREFIX}")
if(NOT _bf_prefix)
  execute_process(
    COMMAND bash "${PROJECT_SOURCE_DIR}/tools/build-faiss-avx2.sh" --print-prefix
    OUTPUT_VARIABLE _bf_prefix OUTPUT_STRIP_TRAILING_WHITESPACE
    ERROR_QUIET RESULT_VARIABLE _bf_rc)
  if(NOT _bf_rc EQUAL 0)
    set(_bf_prefix "")
  endif()
endif()

# Usable = complete (stamp written last) and this CPU can run it.
set(_bf_why "")
file(STRINGS /proc/cpuinfo _bf_flags REGEX "^flags" LIMIT_COUNT 1)
if(NOT _bf_flags MATCHES " avx2( |$)" OR NOT _bf_flags MATCHES " fma( |$)")
  set(_bf_why "this CPU lacks AVX2 or FMA")
elseif(NOT _bf_prefix)
  set(_bf_why "no prefix (is libfaiss-dev installed?)")
elseif(NOT EXISTS "${_bf_prefix}/bridgefeed-stamp")
  set(_bf_why "no finished build at ${_bf_prefix}")
else()
  find_library(_bf_lib NAMES faiss_avx2 PATHS "${_bf_prefix}" PATH_SUFFIXES lib lib64
               NO_DEFAULT_PATH NO_CACHE)
  if(NOT _bf_lib OR NOT EXISTS "${_bf_prefix}/include/faiss/Index.h")
    set(_bf_why "${_bf_prefix} has no libfaiss_avx2 or no headers")
  endif()
endif()

add_library(bridgefeed_faiss_package INTERFACE)
target_link_libraries(bridgefeed_faiss_package INTERFACE faiss OpenMP::OpenMP_CXX)
target_compile_definitions(bridgefeed_faiss_package INTERFACE BRIDGEFEED_FAISS_BUILD="package")
add_library(bridgefeed::faiss_package ALIAS bridgefeed_faiss_package)

if(NOT _bf_why)
  # Imported by hand, not through the prefix's faiss-config.cmake: that would define a second
  # `faiss` target and clash with the package's, which benchmarks link side by side.
  # The recipe builds against OpenBLAS, so link the same.
  set(BLA_VENDOR OpenBLAS)
  find_package(BLAS REQUIRED)
  find_package(LAPACK REQUIRED)
  unset(BLA_VENDOR)
  add_library(bridgefeed_faiss_avx2_lib STATIC IMPORTED)
  set_target_properties(bridgefeed_faiss_avx2_lib PROPERTIES
    IMPORTED_LOCATION "${_bf_lib}"
    INTERFACE_INCLUDE_DIRECTORIES "${_bf_prefix}/include"
    INTERFACE_LINK_LIBRARIES "OpenMP::OpenMP_CXX;LAPACK::LAPACK;BLAS::BLAS")
  add_library(bridgefeed_faiss_avx2 INTERFACE)
  target_link_libraries(bridgefeed_faiss_avx2 INTERFACE bridgefeed_faiss_avx2_lib)
  target_compile_definitions(bridgefeed_faiss_avx2 INTERFACE BRIDGEFEED_FAISS_BUILD="avx2")
  add_library(bridgefeed::faiss_avx2 ALIAS bridgefeed_faiss_avx2)
endif()

if(BRIDGEFEED_FAISS STREQUAL "package")
  set(BRIDGEFEED_FAISS_BUILD package)
  message(STATUS "Faiss: Debian's generic package build (BRIDGEFEED_FAISS=package)")
elseif(NOT _bf_why)
  set(BRIDGEFEED_FAISS_BUILD avx2)
  message(STATUS "Faiss: AVX2 build of Debian's source at ${_bf_prefix}")
elseif(BRIDGEFEED_FAISS STREQUAL "avx2")
  message(FATAL_ERROR "BRIDGEFEED_FAISS=avx2 but the AVX2 Faiss build is not usable: ${_bf_why}. "
                      "Build it with tools/build-faiss-avx2.sh, or use BRIDGEFEED_FAISS=auto|package.")
else()
  set(BRIDGEFEED_FAISS_BUILD package)
  message(STATUS "Faiss: Debian's generic package build (no AVX2 build: ${_bf_why})")
endif()

add_library(bridgefeed_build_info INTERFACE)
target_compile_definitions(bridgefeed_build_info INTERFACE
                           BRIDGEFEED_FAISS_BUILD="${BRIDGEFEED_FAISS_BUILD}")
add_library(bridgefeed::build_info ALIAS bridgefeed_build_info)

add_library(bridgefeed_faiss INTERFACE)
target_link_libraries(bridgefeed_faiss INTERFACE bridgefeed_faiss_${BRIDGEFEED_FAISS_BUILD})
add_library(bridgefeed::faiss ALIAS bridgefeed_faiss)

unset(_bf_prefix)
unset(_bf_rc)
unset(_bf_why)
unset(_bf_flags)
unset(_bf_lib)
