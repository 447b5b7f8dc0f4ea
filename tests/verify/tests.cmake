# Validator tests: the Check suite (when tests/unit/tests.cmake could not
# build it because sceau_verify did not exist yet) and the DSS corpus
# conformance driver.

# The top-level CMakeLists.txt may not add verify/ (yet): add it here.
if(NOT TARGET sceau_verify)
	add_subdirectory(${CMAKE_SOURCE_DIR}/verify
		${CMAKE_BINARY_DIR}/verify)
endif()

set(V ${CMAKE_CURRENT_SOURCE_DIR}/verify)
if(NOT TARGET check_verify
		AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/unit/check_verify.c)
	sceau_check_test(check_verify
		SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/check_verify.c
			${CMAKE_CURRENT_SOURCE_DIR}/unit/testenv.c
		LIBS sceau_verify)
endif()

# corpus_check: sc_ver_document over every file of corpus/dss, compared
# with MANIFEST.tsv; exit 77 when the corpus is absent.
add_executable(corpus_check ${V}/corpus_check.c)
target_compile_options(corpus_check PRIVATE ${SCEAU_WARN})
target_compile_definitions(corpus_check PRIVATE
	SCEAU_CORPUS_DEFAULT="${CMAKE_SOURCE_DIR}/../shared/corpus"
	SCEAU_KNOWN_DEFAULT="${V}/known_disagreements.tsv")
target_link_libraries(corpus_check PRIVATE sceau_verify)
add_test(NAME verify_corpus COMMAND corpus_check)
set_tests_properties(verify_corpus PROPERTIES SKIP_RETURN_CODE 77)
