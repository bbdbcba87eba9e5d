/* SPDX-License-Identifier: MIT */
/* The embedded OpenAPI document parses and describes every route. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

extern const char api_openapi_json[];
extern const size_t api_openapi_json_len;

static void test_document(void **state)
{
	static const struct {
		const char *path, *methods[4];
	} routes[] = {
		{"/health", {"get"}},
		{"/users", {"get", "post"}},
		{"/users/{id}", {"get", "patch", "delete"}},
		{"/users/{id}/config", {"get"}},
		{"/users/{id}/config.png", {"get"}},
		{"/audit", {"get"}},
		{"/users/{id}/links", {"post"}},
		{"/links/{token}", {"get"}},
		{"/metrics", {"get"}},
		{"/openapi.json", {"get"}},
	};
	json_error_t err;
	json_t *doc, *paths, *v;

	assert_int_equal(strlen(api_openapi_json), api_openapi_json_len);
	doc = json_loadb(api_openapi_json, api_openapi_json_len,
			 JSON_REJECT_DUPLICATES, &err);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "openapi")),
			    "3.0.3");
	paths = json_object_get(doc, "paths");
	assert_int_equal(json_object_size(paths),
			 sizeof(routes) / sizeof(routes[0]));
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		json_t *p = json_object_get(paths, routes[i].path);

		assert_non_null(p);
		for (int m = 0; m < 4 && routes[i].methods[m]; m++)
			assert_non_null(
				json_object_get(p, routes[i].methods[m]));
	}
	v = json_object_get(json_object_get(json_object_get(doc, "components"),
					    "securitySchemes"),
			    "bearer");
	assert_string_equal(json_string_value(json_object_get(v, "scheme")),
			    "bearer");
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_document),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
