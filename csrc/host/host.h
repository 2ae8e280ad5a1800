/* Private declarations of csrc/host (the C host API); never installed. */
#ifndef LNUMA_HOST_H
#define LNUMA_HOST_H

#include <stddef.h>

/* One Lua source of the face (a file of lua/lnuma), embedded at build time by
 * csrc/host/embed.lua into $(BUILD)/gen/lua_files.c. */
typedef struct lnuma__lua_file {
  const char *module;        /* "lnuma", "lnuma.plan", ... */
  const char *chunkname;     /* "@lnuma/plan.lua" */
  const unsigned char *text;
  size_t len;
} lnuma__lua_file;

/* Terminated by an entry whose module is NULL. */
extern const lnuma__lua_file lnuma__lua_files[];

#endif
