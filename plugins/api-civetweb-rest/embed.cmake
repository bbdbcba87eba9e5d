# cmake -DIN=openapi.json -DOUT=openapi_data.c -P embed.cmake
# Embeds a file as `const char api_openapi_json[]` (NUL-terminated) plus its
# length, so the document ships inside the plugin and stays valid JSON that
# editors and linters can check in the source tree.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR bytes "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n\t" body "${body}")
file(WRITE "${OUT}.tmp"
"/* Generated from openapi.json by embed.cmake: do not edit. */
#include <stddef.h>

extern const char api_openapi_json[];
extern const size_t api_openapi_json_len;

const char api_openapi_json[] = {
\t${body}0x00
};
const size_t api_openapi_json_len = ${bytes};
")
file(RENAME "${OUT}.tmp" "${OUT}")
