/*
 * api_json.c: bounded JSON bodies in, JSON out.
 */
#include <stdlib.h>
#include <string.h>

#include "api_int.h"

json_t *
api_json_body(const struct api_req *r, struct sc_err *err)
{
	json_error_t je;
	json_t *j;

	if (r->body.len == 0) {
		sc_err_set(err, SC_E_INVALID_JSON, "empty body: a JSON object "
						   "is expected");
		return NULL;
	}
	/* The body size is already bounded by the route's limit. */
	j = json_loadb((const char *)r->body.p, r->body.len,
	    JSON_REJECT_DUPLICATES, &je);
	if (j == NULL) {
		sc_err_set(err, SC_E_INVALID_JSON,
		    "malformed JSON at line %d, column %d: %.80s", je.line,
		    je.column, je.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		sc_err_set(err, SC_E_INVALID_JSON, "a JSON object is expected");
		return NULL;
	}
	return j;
}

int
api_json_str(json_t *obj, const char *key, int required, size_t maxlen,
    const char **out, struct sc_err *err)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		if (required)
			return sc_err_set(err, SC_E_INVALID_INPUT,
			    "the member \"%s\" is required", key);
		return 0;
	}
	if (!json_is_string(v))
		return sc_err_set(err, SC_E_INVALID_INPUT,
		    "the member \"%s\" must be a string", key);
	if (json_string_length(v) > maxlen)
		return sc_err_set(err, SC_E_INVALID_INPUT,
		    "the member \"%s\" is longer than %zu bytes", key, maxlen);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return sc_err_set(err, SC_E_INVALID_INPUT,
		    "the member \"%s\" contains a NUL character", key);
	*out = json_string_value(v);
	return 0;
}

int
api_reply_json(struct api_resp *out, unsigned status, json_t *j,
    struct sc_err *err)
{
	char *txt;
	int rc;

	if (j == NULL)
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	txt = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (txt == NULL)
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	out->status = status;
	out->content_type = "application/json";
	rc = sc_buf_append_str(&out->body, txt, err);
	free(txt);
	return rc;
}
