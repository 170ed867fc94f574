# Each layer's library sees only its own folder and, through its links, the layers below it.
#
# bf_layer(TARGET PATH...) gives TARGET an include root in the build tree that holds only the
# given repository paths (folders or files, linked in place), PUBLIC so its dependents see them
# too. An include of a layer above (say "engine/server/..." from engine/store) then finds no
# file and fails to build: the direction is enforced by the links, not by review.
function(bf_layer target)
  set(root "${PROJECT_BINARY_DIR}/layers/${target}")
  foreach(path IN LISTS ARGN)
    get_filename_component(parent "${root}/${path}" DIRECTORY)
    file(MAKE_DIRECTORY "${parent}")
    if(NOT EXISTS "${root}/${path}")
      file(CREATE_LINK "${PROJECT_SOURCE_DIR}/${path}" "${root}/${path}" SYMBOLIC)
    endif()
  endforeach()
  target_include_directories(${target} PUBLIC "${root}")
endfunction()

# Executables (tools, tests, benches) sit above every layer and include from the root.
add_library(bridgefeed_source_root INTERFACE)
target_include_directories(bridgefeed_source_root INTERFACE ${PROJECT_SOURCE_DIR})
