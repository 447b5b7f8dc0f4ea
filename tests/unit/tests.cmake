# Unit suites, one per module (STYLE.md rule 18).
set(U ${CMAKE_CURRENT_SOURCE_DIR}/unit)
sceau_check_test(check_core SOURCES ${U}/check_core.c LIBS sceau_core)
# check_<suite>.c links sceau_<lib>; testpki.c builds test hierarchies
# with HSM keys for the suites that need certificates.
foreach(pair db:db hsm:hsm verify:verify ca:ca pki:ca tsa:tsa pades:signer xades:signer)
	string(REPLACE ":" ";" pl ${pair})
	list(GET pl 0 suite)
	list(GET pl 1 lib)
	if(EXISTS ${U}/check_${suite}.c AND TARGET sceau_${lib})
		sceau_check_test(check_${suite} SOURCES ${U}/check_${suite}.c
			${U}/testenv.c LIBS sceau_${lib} sceau_hsm)
		if(EXISTS ${U}/testpki.c)
			target_sources(check_${suite} PRIVATE ${U}/testpki.c)
		endif()
	endif()
endforeach()
# check_db stops and restarts the shared test cluster: run it alone.
if(TARGET check_db)
	set_tests_properties(check_db PROPERTIES RUN_SERIAL TRUE)
endif()
