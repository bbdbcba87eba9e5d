# cmake -DIN=openapi.json -DOUT=openapi_data.c [-DNAME=api_openapi_json] -P embed.cmake
# Embeds a file as `const char NAME[]` (NUL-terminated) plus NAME_len, so
# the file ships inside the plugin and stays a plain file (JSON, HTML, CSS,
# JS) that editors and linters can check in the source tree.
if(NOT NAME)
  set(NAME api_openapi_json)
endif()
get_filename_component(_in_name "${IN}" NAME)
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR bytes "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n\t" body "${body}")
file(WRITE "${OUT}.tmp"
"/* Generated from ${_in_name} by embed.cmake: do not edit. */
#include <stddef.h>

extern const char ${NAME}[];
extern const size_t ${NAME}_len;

const char ${NAME}[] = {
\t${body}0x00
};
const size_t ${NAME}_len = ${bytes};
")
file(RENAME "${OUT}.tmp" "${OUT}")
