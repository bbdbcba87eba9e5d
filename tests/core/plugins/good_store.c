/* A minimal store plugin for loader tests (in-memory, not thread-safe). */
#include <stdlib.h>
#include <string.h>

#include <evpn/config.h>
#include <evpn/host.h>
#include <evpn/store.h>

#ifndef TEST_ABI_MAJOR
#define TEST_ABI_MAJOR EVPN_ABI_MAJOR
#endif
#ifndef TEST_ABI_MINOR
#define TEST_ABI_MINOR EVPN_ABI_MINOR
#endif
#ifndef TEST_KIND
#define TEST_KIND EVPN_KIND_STORE
#endif
#ifndef TEST_CREATE_RESULT
#define TEST_CREATE_RESULT EVPN_OK
#endif

static int g_get(void *s, const char *k, char **v, size_t *l)
{
	return EVPN_ERR_NOTFOUND;
}
static int g_put(void *s, const char *k, const char *v, size_t l, uint32_t f)
{
	return EVPN_OK;
}
static int g_del(void *s, const char *k)
{
	return EVPN_ERR_NOTFOUND;
}
static int g_list(void *s, const char *p, evpn_store_list_cb cb, void *a)
{
	return EVPN_OK;
}
static void g_free(void *s, char *v, size_t l)
{
	free(v);
}
static int g_ping(void *s)
{
	return EVPN_OK;
}

static const struct evpn_store_ops ops = {
#ifdef TEST_VTABLE_SHORT /* built against a header missing the last field */
	.size = offsetof(struct evpn_store_ops, ping),
#else
	.size = sizeof(ops),
#endif
	.get = g_get,
	.put = g_put,
	.del = g_del,
	.list = g_list,
	.free_value = g_free,
	.ping = g_ping,
};

static const struct evpn_config_key schema[] = {
	{.key = "name", .type = EVPN_CFG_STRING, .def = "x"},
	{.key = "count", .type = EVPN_CFG_INT, .def = "3", .min = 1, .max = 10},
	EVPN_CONFIG_KEYS_END,
};

static int create(const struct evpn_host *h, const struct evpn_config_node *c,
		  void **self)
{
	*self = (void *)h;
	return TEST_CREATE_RESULT;
}
static void destroy(void *self)
{
}

__attribute__((used)) static const struct evpn_plugin_desc desc = {
	.size = sizeof(struct evpn_plugin_desc),
	.abi_major = TEST_ABI_MAJOR,
	.abi_minor = TEST_ABI_MINOR,
	.build_sig = EVPN_BUILD_SIGNATURE,
	.name = TEST_NAME,
	.kind = TEST_KIND,
	.version = "9.9",
	.description = "test plugin",
#ifdef TEST_REQUIRES_AUTH
	.requires = EVPN_KIND_BIT(EVPN_KIND_AUTH),
#endif
	.schema = schema,
	.create = create,
	.destroy = destroy,
	.vtable = &ops,
};

#ifdef TEST_NO_ENTRY
EVPN_EXPORT const struct evpn_plugin_desc *not_the_entry(void);
EVPN_EXPORT const struct evpn_plugin_desc *not_the_entry(void)
{
	return &desc;
}
#elif defined(TEST_REFUSE)
EVPN_EXPORT const struct evpn_plugin_desc *evpn_plugin_entry(uint16_t a,
							     uint16_t b);
EVPN_EXPORT const struct evpn_plugin_desc *evpn_plugin_entry(uint16_t a,
							     uint16_t b)
{
	return NULL;
}
#elif defined(TEST_ABI_HONEST)
/* What EVPN_PLUGIN_DEFINE wrote in the headers of ABI TEST_ABI_MAJOR.
 * TEST_ABI_MINOR: a plugin built for another ABI refuses this host, which
 * must still say which ABI the plugin was built for. */
EVPN_EXPORT const struct evpn_plugin_desc *evpn_plugin_entry(uint16_t a,
							     uint16_t b);
EVPN_EXPORT const struct evpn_plugin_desc *evpn_plugin_entry(uint16_t a,
							     uint16_t b)
{
	if (a != TEST_ABI_MAJOR || b + 1u <= (unsigned)TEST_ABI_MINOR)
		return NULL;
	return &desc;
}
#elif TEST_ABI_MAJOR != EVPN_ABI_MAJOR || TEST_ABI_MINOR != EVPN_ABI_MINOR
/* A plugin that (wrongly) accepts any host: the host must still refuse. */
EVPN_EXPORT const struct evpn_plugin_desc *evpn_plugin_entry(uint16_t a,
							     uint16_t b);
EVPN_EXPORT const struct evpn_plugin_desc *evpn_plugin_entry(uint16_t a,
							     uint16_t b)
{
	return &desc;
}
#else
EVPN_PLUGIN_DEFINE(desc)
#endif
