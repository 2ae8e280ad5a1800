/* Arenas: a bump allocator over one node-local, populated buffer.  Nothing
 * after creation makes a system call. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "mem_internal.h"

struct lnuma_arena {
  char *base;
  size_t capacity;
  size_t used;
  lnuma_buffer *buf;
};

lnuma_arena *lnuma_arena_create(size_t capacity, const lnuma_alloc_opts *opts,
                                lnuma_error *err) {
  lnuma_alloc_opts o;
  if (opts != NULL)
    o = *opts;
  else
    lnuma_alloc_opts_init(&o);
  o.populate = 1;
  lnuma_arena *a = calloc(1, sizeof *a);
  if (a == NULL) {
    lnuma__fail_sys(err, ENOMEM, "calloc");
    return NULL;
  }
  a->buf = lnuma_buffer_alloc(capacity, &o, err);
  if (a->buf == NULL) {
    int e = errno;
    free(a);
    errno = e;
    return NULL;
  }
  a->base = lnuma_buffer_data(a->buf);
  a->capacity = capacity;
  return a;
}

void lnuma_arena_destroy(lnuma_arena *arena) {
  if (arena == NULL) return;
  lnuma_buffer_free(arena->buf);
  free(arena);
}

void *lnuma_arena_alloc(lnuma_arena *arena, size_t n, size_t align) {
  if (align == 0) align = 16;
  if (n == 0 || (align & (align - 1)) != 0) {
    errno = EINVAL;
    return NULL;
  }
  /* base is page aligned, so aligning the offset aligns the address for
   * every align up to the page size; larger ones align the address. */
  uintptr_t at = (uintptr_t)arena->base + arena->used;
  uintptr_t aligned = (at + align - 1) & ~(uintptr_t)(align - 1);
  if (aligned < at) {
    errno = ENOMEM;
    return NULL;
  }
  size_t off = (size_t)(aligned - (uintptr_t)arena->base);
  if (off > arena->capacity || n > arena->capacity - off) {
    errno = ENOMEM;
    return NULL;
  }
  arena->used = off + n;
  return arena->base + off;
}

void lnuma_arena_reset(lnuma_arena *arena) { arena->used = 0; }

size_t lnuma_arena_used(const lnuma_arena *arena) { return arena->used; }

size_t lnuma_arena_capacity(const lnuma_arena *arena) { return arena->capacity; }

lnuma_buffer *lnuma_arena_buffer(const lnuma_arena *arena) { return arena->buf; }
