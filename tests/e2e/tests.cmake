# Integration and interop scripts: tests/e2e/*.sh, each one test.
file(GLOB SCEAU_E2E ${CMAKE_CURRENT_SOURCE_DIR}/e2e/*.sh)
foreach(script ${SCEAU_E2E})
	get_filename_component(n ${script} NAME_WE)
	sceau_shell_test(e2e_${n} e2e/${n}.sh)
endforeach()
