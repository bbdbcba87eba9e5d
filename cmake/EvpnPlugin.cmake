# evpn_add_plugin(<kind> <name> SOURCES ... [LIBS ...])
# Builds plugins/<kind>-<name>.so: hidden visibility (only the entry symbol is
# exported), no "lib" prefix, installed into the plugin directory.
function(evpn_add_plugin kind name)
  cmake_parse_arguments(P "" "" "SOURCES;LIBS" ${ARGN})
  set(target plugin-${kind}-${name})
  add_library(${target} MODULE ${P_SOURCES})
  set_target_properties(${target} PROPERTIES
    PREFIX "" OUTPUT_NAME "${kind}-${name}"
    LIBRARY_OUTPUT_DIRECTORY ${EVPN_PLUGIN_OUTPUT_DIR}
    C_VISIBILITY_PRESET hidden)
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(${target} PRIVATE ${P_LIBS})
  target_link_options(${target} PRIVATE -Wl,-z,defs)
  install(TARGETS ${target} LIBRARY DESTINATION ${EVPN_PLUGIN_INSTALL_DIR})
endfunction()
