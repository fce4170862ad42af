# help-files.cmake — writes the man page and the shell completion scripts from the built
# binary's own tables (p2plab help --man, p2plab help --completion SHELL), so that they say what
# --help, p2plab list and the README reference say. Run by the build:
#   cmake -DP2PLAB=build/p2plab -DOUT=build -P tools/help-files.cmake
foreach(spec "p2plab.1;help;--man" "p2plab.bash;help;--completion;bash"
             "_p2plab;help;--completion;zsh")
  list(POP_FRONT spec file)
  execute_process(COMMAND ${P2PLAB} ${spec} OUTPUT_FILE ${OUT}/${file}.tmp
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${P2PLAB} ${spec} failed (${rc})")
  endif()
  file(RENAME ${OUT}/${file}.tmp ${OUT}/${file})
endforeach()
