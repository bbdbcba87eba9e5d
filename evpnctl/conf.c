// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <evpn/transport.h>

#include "conf.h"

/* Skips blanks; wg-quick allows them around keys, '=' and section names. */
static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

static bool is_section(const char *p, const char *end)
{
	p = skip_ws(p, end);
	return p < end && *p == '[';
}

static bool is_interface(const char *p, const char *end)
{
	p = skip_ws(p, end);
	return (size_t)(end - p) >= 11 && !strncasecmp(p, "[Interface]", 11);
}

static bool is_private_key(const char *p, const char *end)
{
	p = skip_ws(p, end);
	if ((size_t)(end - p) < 10 || strncasecmp(p, "PrivateKey", 10))
		return false;
	p = skip_ws(p + 10, end);
	return p < end && *p == '=';
}

static bool valid_key(const char *k)
{
	size_t n = strlen(k);

	if (n != EVPN_KEY_B64_LEN || k[EVPN_KEY_B64_LEN - 1] != '=')
		return false;
	for (size_t i = 0; i < EVPN_KEY_B64_LEN - 1; i++) {
		char c = k[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return false;
	}
	return true;
}

int evpnctl_conf_set_private_key(const char *conf, const char *key_b64,
				 char **out)
{
	size_t len = strlen(conf);
	/* The result is at most conf + one added line; a replaced line can
	 * only be longer by the key and the fixed text. */
	size_t cap = len + strlen(key_b64) + 32;
	char *res, *w;
	const char *p = conf, *end = conf + len;
	bool in_iface = false, done = false, seen_iface = false;
	char *comment = NULL; /* where the comment right above us starts */

	if (!valid_key(key_b64))
		return -EINVAL;
	res = malloc(cap);
	if (!res)
		return -ENOMEM;
	w = res;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;	      /* line end */
		const char *next = nl ? nl + 1 : end; /* next line */
		const char *ce = le;		      /* content end */

		if (ce > p && ce[-1] == '\r')
			ce--;
		if (is_section(p, ce)) {
			in_iface = is_interface(p, ce);
			memcpy(w, p, (size_t)(next - p));
			w += next - p;
			if (in_iface && !seen_iface) {
				seen_iface = true;
				/* Remember where to add the key if the section
				 * has no PrivateKey line: right after it. */
				if (!nl) {
					*w++ = '\n';
				}
				const char *q = next;
				bool has = false;

				while (q < end) {
					const char *qn = memchr(
						q, '\n', (size_t)(end - q));
					const char *qe = qn ? qn : end;

					if (is_section(q, qe))
						break;
					if (is_private_key(q, qe))
						has = true;
					q = qn ? qn + 1 : end;
				}
				if (!has) {
					w += sprintf(w, "PrivateKey = %s\n",
						     key_b64);
					done = true;
				}
			}
		} else if (in_iface && !done && is_private_key(p, ce)) {
			/* A comment right above the placeholder is the server's
			 * note about it ("put yours here"): no longer true. */
			if (comment)
				w = comment;
			w += sprintf(w, "PrivateKey = %s", key_b64);
			memcpy(w, ce, (size_t)(next - ce)); /* keep EOL */
			w += next - ce;
			done = true;
		} else if (in_iface && done && is_private_key(p, ce)) {
			/* A second PrivateKey would override ours: drop. */
		} else {
			const char *t = skip_ws(p, ce);
			char *start = w;

			memcpy(w, p, (size_t)(next - p));
			w += next - p;
			if (in_iface && t < ce && (*t == '#' || *t == ';')) {
				comment = comment ? comment : start;
				p = next;
				continue;
			}
		}
		comment = NULL;
		p = next;
	}
	*w = '\0';
	if (!seen_iface) {
		free(res);
		return -EINVAL;
	}
	*out = res;
	return 0;
}

/* --- filtering: see conf.h --- */

enum line_kind {
	LINE_EMPTY,   /* blank or a comment */
	LINE_CONTROL, /* has a control character */
	LINE_SECTION, /* "[...]" */
	LINE_KEY,     /* key = value */
	LINE_NO_EQ,   /* text without '=' */
};

struct line {
	enum line_kind kind;
	const char *next;   /* the next line */
	const char *k, *ke; /* key (or section header), trimmed */
	const char *v, *ve; /* value, trimmed, cut at '#' */
};

/* bash's [[:space:]], which wg-quick trims keys and values with */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static void trim(const char **s, const char **e)
{
	while (*s < *e && is_space(**s))
		(*s)++;
	while (*e > *s && is_space((*e)[-1]))
		(*e)--;
}

static void parse_line(const char *p, const char *end, struct line *l)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	const char *le = nl ? nl : end, *q, *cut, *eq;

	l->next = nl ? nl + 1 : end;
	for (q = p; q < le; q++) {
		unsigned char c = (unsigned char)*q;

		/* a CR is fine only as the CRLF line end */
		if ((c < 0x20 && c != '\t' && !(c == '\r' && q == le - 1)) ||
		    c == 0x7f) {
			l->kind = LINE_CONTROL;
			return;
		}
	}
	cut = memchr(p, '#', (size_t)(le - p));
	cut = cut ? cut : le;
	l->k = p;
	l->ke = cut;
	trim(&l->k, &l->ke);
	if (l->k == l->ke) {
		l->kind = LINE_EMPTY;
		return;
	}
	eq = memchr(l->k, '=', (size_t)(l->ke - l->k));
	if (!eq && *l->k != '[') {
		l->kind = LINE_NO_EQ;
		return;
	}
	/* "[Interface] = x": wg-quick takes it for a header, wg rejects it;
	 * as a whole it matches no section name */
	if (*l->k == '[') {
		l->kind = LINE_SECTION;
		return;
	}
	l->v = eq + 1;
	l->ve = l->ke;
	l->ke = eq;
	trim(&l->k, &l->ke);
	trim(&l->v, &l->ve);
	l->kind = LINE_KEY;
}

static bool is_word(const char *s, const char *e, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(e - s) == n && !strncasecmp(s, word, n);
}

static bool only_chars(const char *s, const char *e, const char *set)
{
	if (s == e)
		return false;
	for (; s < e; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9')) &&
		    !strchr(set, *s))
			return false;
	}
	return true;
}

static bool only_digits(const char *s, const char *e, size_t max)
{
	if (s == e || (size_t)(e - s) > max)
		return false;
	for (; s < e; s++) {
		if (*s < '0' || *s > '9')
			return false;
	}
	return true;
}

static bool ok_b64key(const char *s, const char *e)
{
	char k[EVPN_KEY_B64_SIZE];

	if (e - s != EVPN_KEY_B64_LEN)
		return false;
	memcpy(k, s, EVPN_KEY_B64_LEN);
	k[EVPN_KEY_B64_LEN] = '\0';
	return valid_key(k);
}

static bool ok_addrs(const char *s, const char *e)
{
	for (const char *q = s; q < e; q++) {
		if (!strchr("0123456789abcdefABCDEF.:/, \t", *q))
			return false;
	}
	return s < e;
}

static bool ok_dns(const char *s, const char *e)
{
	return only_chars(s, e, ".:-_, \t");
}

static bool ok_mtu(const char *s, const char *e)
{
	return only_digits(s, e, 5);
}

static bool ok_endpoint(const char *s, const char *e)
{
	return only_chars(s, e, ".:-_[]%");
}

static bool ok_keepalive(const char *s, const char *e)
{
	return only_digits(s, e, 5) || is_word(s, e, "off");
}

struct allowed_key {
	const char *name;
	bool iface; /* [Interface]; else [Peer] */
	bool (*ok)(const char *s, const char *e);
};

static const struct allowed_key allowed[] = {
	{"PrivateKey", true, ok_b64key},
	{"Address", true, ok_addrs},
	{"DNS", true, ok_dns},
	{"MTU", true, ok_mtu},
	{"PublicKey", false, ok_b64key},
	{"PresharedKey", false, ok_b64key},
	{"Endpoint", false, ok_endpoint},
	{"AllowedIPs", false, ok_addrs},
	{"PersistentKeepalive", false, ok_keepalive},
};

enum section { SEC_NONE, SEC_IFACE, SEC_PEER, SEC_OTHER };

/* Names from the file are echoed only when they are plain words. */
static const char *printable(const char *s, const char *e, char *buf,
			     size_t len, const char *fallback)
{
	if (e - s > 24 || !only_chars(s, e, "_-"))
		return fallback;
	snprintf(buf, len, "%.*s", (int)(e - s), s);
	return buf;
}

__attribute__((format(printf, 3, 4))) static void
issue(struct evpnctl_conf_report *rep, unsigned line, const char *fmt, ...)
{
	va_list ap;

	if (rep->n < EVPNCTL_CONF_ISSUES_MAX) {
		struct evpnctl_conf_issue *i = &rep->first[rep->n];

		i->line = line;
		va_start(ap, fmt);
		vsnprintf(i->what, sizeof(i->what), fmt, ap);
		va_end(ap);
	}
	rep->n++;
}

/* Is this key = value line one to keep? Reports why not. */
static bool keep_key(const struct line *l, enum section sec, unsigned no,
		     struct evpnctl_conf_report *rep)
{
	char name[32];
	const char *shown =
		printable(l->k, l->ke, name, sizeof(name), "unknown key");

	if (sec == SEC_NONE) {
		issue(rep, no, "%s outside [Interface]/[Peer]", shown);
		return false;
	}
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		if (allowed[i].iface != (sec == SEC_IFACE) ||
		    !is_word(l->k, l->ke, allowed[i].name))
			continue;
		if (allowed[i].ok(l->v, l->ve))
			return true;
		issue(rep, no, "%s (bad value)", shown);
		return false;
	}
	issue(rep, no, "%s", shown);
	return false;
}

int evpnctl_conf_filter(const char *conf, char **out,
			struct evpnctl_conf_report *rep)
{
	size_t len = strlen(conf);
	const char *p = conf, *end = conf + len;
	enum section sec = SEC_NONE;
	char *res = NULL, *w = NULL;
	unsigned no = 0;

	memset(rep, 0, sizeof(*rep));
	if (out) {
		res = malloc(len + 1);
		if (!res)
			return -ENOMEM;
		w = res;
	}
	while (p < end) {
		struct line l;
		bool keep = false;

		parse_line(p, end, &l);
		no++;
		switch (l.kind) {
		case LINE_CONTROL: issue(rep, no, "control character"); break;
		case LINE_EMPTY: keep = true; break;
		case LINE_SECTION:
			if (is_word(l.k, l.ke, "[Interface]")) {
				sec = SEC_IFACE;
				keep = true;
			} else if (is_word(l.k, l.ke, "[Peer]")) {
				sec = SEC_PEER;
				keep = true;
			} else {
				char name[32];

				/* Its lines go with it, unreported. */
				sec = SEC_OTHER;
				if (l.ke - l.k > 2 && l.ke[-1] == ']')
					issue(rep, no, "[%s] section",
					      printable(l.k + 1, l.ke - 1, name,
							sizeof(name),
							"unknown"));
				else
					issue(rep, no, "unknown section");
			}
			break;
		case LINE_NO_EQ:
			if (sec != SEC_OTHER)
				issue(rep, no, "line without '='");
			break;
		case LINE_KEY:
			keep = sec != SEC_OTHER && keep_key(&l, sec, no, rep);
			break;
		}
		if (keep && w) {
			memcpy(w, p, (size_t)(l.next - p));
			w += l.next - p;
		}
		p = l.next;
	}
	if (out) {
		*w = '\0';
		*out = res;
	}
	return 0;
}

void evpnctl_conf_report_str(const struct evpnctl_conf_report *rep, char *buf,
			     size_t len)
{
	size_t shown = rep->n < EVPNCTL_CONF_ISSUES_MAX
			       ? rep->n
			       : EVPNCTL_CONF_ISSUES_MAX;
	size_t off = 0;

	if (!len)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < shown && off < len; i++) {
		int n = snprintf(buf + off, len - off, "%s%s (line %u)",
				 i ? ", " : "", rep->first[i].what,
				 rep->first[i].line);
		if (n < 0)
			return;
		off += (size_t)n;
	}
	if (rep->n > shown && off < len)
		snprintf(buf + off, len - off, " and %zu more", rep->n - shown);
}

/* Calls fn on each token of [s, e) split at ',' and blanks. */
static void tokens(const char *s, const char *e, struct evpnctl_conf_needs *n,
		   void (*fn)(const char *, const char *,
			      struct evpnctl_conf_needs *))
{
	while (s < e) {
		const char *t;

		while (s < e && (*s == ',' || is_space(*s)))
			s++;
		for (t = s; t < e && *t != ',' && !is_space(*t); t++)
			;
		if (t > s)
			fn(s, t, n);
		s = t;
	}
}

/* wg-quick hands only IP addresses to resolvconf; names are search
 * domains and need nothing. */
static void dns_token(const char *s, const char *e,
		      struct evpnctl_conf_needs *n)
{
	const char *q = s;

	while (q < e && ((*q >= '0' && *q <= '9') || *q == '.'))
		q++;
	if (q == e || memchr(s, ':', (size_t)(e - s)))
		n->dns = true;
}

/* Any /0 makes wg-quick add_default(): policy routing plus firewall
 * rules through nft, else iptables-restore / ip6tables-restore. */
static void allowed_token(const char *s, const char *e,
			  struct evpnctl_conf_needs *n)
{
	if (e - s < 3 || e[-2] != '/' || e[-1] != '0')
		return;
	if (memchr(s, ':', (size_t)(e - s)))
		n->default6 = true;
	else
		n->default4 = true;
}

static enum section section_of(const struct line *l)
{
	return is_word(l->k, l->ke, "[Interface]") ? SEC_IFACE
	       : is_word(l->k, l->ke, "[Peer]")	   ? SEC_PEER
						   : SEC_OTHER;
}

bool evpnctl_conf_has_private_key(const char *conf, const char *key)
{
	const char *p = conf, *end = conf + strlen(conf);
	enum section sec = SEC_NONE;

	while (p < end) {
		struct line l;

		parse_line(p, end, &l);
		if (l.kind == LINE_SECTION)
			sec = section_of(&l);
		else if (l.kind == LINE_KEY && sec == SEC_IFACE &&
			 is_word(l.k, l.ke, "PrivateKey") &&
			 (size_t)(l.ve - l.v) == strlen(key) &&
			 !memcmp(l.v, key, strlen(key)))
			return true;
		p = l.next;
	}
	return false;
}

void evpnctl_conf_needs(const char *conf, struct evpnctl_conf_needs *n)
{
	const char *p = conf, *end = conf + strlen(conf);
	enum section sec = SEC_NONE;

	memset(n, 0, sizeof(*n));
	while (p < end) {
		struct line l;

		parse_line(p, end, &l);
		if (l.kind == LINE_SECTION)
			sec = section_of(&l);
		else if (l.kind == LINE_KEY && sec == SEC_IFACE &&
			 is_word(l.k, l.ke, "DNS"))
			tokens(l.v, l.ve, n, dns_token);
		else if (l.kind == LINE_KEY && sec == SEC_PEER &&
			 is_word(l.k, l.ke, "AllowedIPs"))
			tokens(l.v, l.ve, n, allowed_token);
		p = l.next;
	}
}
