# wg_embed_files(TARGET NAMESPACE FILES...) generates a source file that holds each file's
# bytes, so the binary carries its default rule data and still lets a user edit copies on
# disk. Each file becomes `std::string_view <namespace>::k<Stem>` via a lookup function
# `std::string_view <namespace>::EmbeddedFile(std::string_view name)`.
function(wg_embed_files target ns)
  set(out "${CMAKE_CURRENT_BINARY_DIR}/${target}_embedded.cc")
  set(script "${PROJECT_SOURCE_DIR}/cmake/EmbedScript.cmake")
  string(REPLACE ";" "|" files "${ARGN}")
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DNS=${ns} "-DFILES=${files}" -P ${script}
    DEPENDS ${ARGN} ${script}
    COMMENT "Embedding data files into ${target}"
    VERBATIM)
  target_sources(${target} PRIVATE ${out})
endfunction()

# wg_embed_tree(TARGET NAMESPACE BASE FILES...) is wg_embed_files with each file named by
# its path relative to BASE ("js/core.js", "vendor/leaflet/leaflet.js"), for trees of
# files whose base names repeat.
function(wg_embed_tree target ns base)
  set(out "${CMAKE_CURRENT_BINARY_DIR}/${target}_tree_embedded.cc")
  set(script "${PROJECT_SOURCE_DIR}/cmake/EmbedScript.cmake")
  string(REPLACE ";" "|" files "${ARGN}")
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DNS=${ns} -DBASE=${base} "-DFILES=${files}"
            -P ${script}
    DEPENDS ${ARGN} ${script}
    COMMENT "Embedding ${base} into ${target}"
    VERBATIM)
  target_sources(${target} PRIVATE ${out})
endfunction()
