/* SPDX-License-Identifier: MIT */
/*
 * The web console: GET / and GET /console/{file}, the page's HTML, CSS and
 * JavaScript embedded in the plugin at build time (www/, embed.cmake).
 *
 * The files are public (no key): the page holds no secret, it asks for the
 * key and sends it as a bearer token to the same origin's API. The strict
 * Content-Security-Policy lets the page load and talk only to this origin
 * (images also from blob: URLs, for the QR codes it fetches with the key),
 * runs no inline script or style, and refuses to be framed.
 */
#include <string.h>

#include "api_internal.h"
#include "errmap.h"

extern const char api_www_index_html[], api_www_console_css[],
	api_www_console_js[], api_www_qr_js[], api_www_favicon_svg[];
extern const size_t api_www_index_html_len, api_www_console_css_len,
	api_www_console_js_len, api_www_qr_js_len, api_www_favicon_svg_len;

#define API_CONSOLE_HEADERS                                                \
	"Content-Security-Policy: default-src 'self'; script-src 'self'; " \
	"style-src 'self'; img-src 'self' blob:; connect-src 'self'; "     \
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'\r\n"  \
	"Referrer-Policy: no-referrer\r\n"                                 \
	"X-Frame-Options: DENY\r\n"                                        \
	"Cross-Origin-Opener-Policy: same-origin\r\n"

struct console_file {
	const char *name, *type;
	const char *data;
	const size_t *len;
};

static const struct console_file console_files[] = {
	{"index.html", "text/html; charset=utf-8", api_www_index_html,
	 &api_www_index_html_len},
	{"console.css", "text/css; charset=utf-8", api_www_console_css,
	 &api_www_console_css_len},
	{"console.js", "text/javascript; charset=utf-8", api_www_console_js,
	 &api_www_console_js_len},
	{"qr.js", "text/javascript; charset=utf-8", api_www_qr_js,
	 &api_www_qr_js_len},
	{"favicon.svg", "image/svg+xml", api_www_favicon_svg,
	 &api_www_favicon_svg_len},
};

int api_console(struct api_req *r)
{
	if (!r->api->console)
		return api_send_error(r, 404, API_CODE_NOT_FOUND,
				      "no such route (the console is off)");
	for (size_t i = 0; i < sizeof(console_files) / sizeof(console_files[0]);
	     i++) {
		const struct console_file *f = &console_files[i];

		if (strcmp(f->name, r->match.file) == 0)
			return api_send(r, 200, f->type, f->data, *f->len,
					API_CONSOLE_HEADERS);
	}
	return api_send_error(r, 404, API_CODE_NOT_FOUND, "no such file");
}
