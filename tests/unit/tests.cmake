# Unit suites, one per module (STYLE.md rule 18).
set(U ${CMAKE_CURRENT_SOURCE_DIR}/unit)
sceau_check_test(check_core SOURCES ${U}/check_core.c LIBS sceau_core)
foreach(mod db hsm verify)
	if(EXISTS ${U}/check_${mod}.c AND TARGET sceau_${mod})
		sceau_check_test(check_${mod} SOURCES ${U}/check_${mod}.c
			${U}/testenv.c LIBS sceau_${mod})
	endif()
endforeach()
