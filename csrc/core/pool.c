/* Pools: count fixed-size objects in one node-local, populated buffer, with
 * an intrusive free list (the link lives in the free object) for O(1)
 * get/put, and one state byte per object so that a double put or a foreign
 * pointer is caught instead of corrupting the list. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

#include "mem_internal.h"

enum { SLOT_FREE = 0, SLOT_USED = 1 };

struct lnuma_pool {
  char *base;
  size_t stride, object_size, count, available;
  int shift;              /* log2(stride) when a power of two, else -1 */
  void *head;             /* first free object; its first word links the next */
  unsigned char *state;   /* SLOT_FREE / SLOT_USED per object */
  lnuma_buffer *buf;
};

/* Index of the object at byte offset off (a multiple of the stride). */
static size_t index_of(const lnuma_pool *pool, size_t off) {
  return pool->shift >= 0 ? off >> pool->shift : off / pool->stride;
}

static size_t default_align(size_t size) {
  size_t a = 8;
  while (a < size && a < 64) a <<= 1;
  return a;
}

lnuma_pool *lnuma_pool_create(size_t object_size, size_t count, size_t align,
                              const lnuma_alloc_opts *opts, lnuma_error *err) {
  if (object_size == 0) {
    lnuma__fail(err, EINVAL, "object size must be positive");
    return NULL;
  }
  if (count == 0) {
    lnuma__fail(err, EINVAL, "count must be positive");
    return NULL;
  }
  if (align == 0) align = default_align(object_size);
  if (align < 8 || (align & (align - 1)) != 0 || align > lnuma__page_size()) {
    lnuma__fail(err, EINVAL, "align %zu is not a power of two between 8 and %zu", align,
                lnuma__page_size());
    return NULL;
  }
  size_t stride = (object_size + align - 1) / align * align;
  if (stride < object_size || count > SIZE_MAX / stride || count > (size_t)LONG_MAX) {
    lnuma__fail(err, ENOMEM, "pool of %zu objects of %zu bytes is too large", count,
                object_size);
    return NULL;
  }
  lnuma_alloc_opts o;
  if (opts != NULL)
    o = *opts;
  else
    lnuma_alloc_opts_init(&o);
  o.populate = 1;
  lnuma_pool *p = calloc(1, sizeof *p);
  unsigned char *state = calloc(count, 1);
  if (p == NULL || state == NULL) {
    free(p);
    free(state);
    lnuma__fail_sys(err, ENOMEM, "calloc");
    return NULL;
  }
  p->buf = lnuma_buffer_alloc(stride * count, &o, err);
  if (p->buf == NULL) {
    int e = errno;
    free(p);
    free(state);
    errno = e;
    return NULL;
  }
  p->base = lnuma_buffer_data(p->buf);
  p->stride = stride;
  p->shift = -1;
  if ((stride & (stride - 1)) == 0)
    for (p->shift = 0; ((size_t)1 << p->shift) != stride; p->shift++) {
    }
  p->object_size = object_size;
  p->count = count;
  p->available = count;
  p->state = state;
  /* Link the objects in address order, so the first gets are sequential. */
  for (size_t i = count; i-- > 0;) {
    void **slot = (void **)(p->base + i * stride);
    *slot = p->head;
    p->head = slot;
  }
  return p;
}

void lnuma_pool_destroy(lnuma_pool *pool) {
  if (pool == NULL) return;
  lnuma_buffer_free(pool->buf);
  free(pool->state);
  free(pool);
}

void *lnuma_pool_get(lnuma_pool *pool) {
  void **obj = pool->head;
  if (obj == NULL) return NULL;
  pool->head = *obj;
  pool->state[index_of(pool, (size_t)((char *)obj - pool->base))] = SLOT_USED;
  pool->available--;
  return obj;
}

long lnuma_pool_index(const lnuma_pool *pool, const void *obj) {
  uintptr_t p = (uintptr_t)obj, b = (uintptr_t)pool->base;
  if (p < b) return -1;
  size_t off = (size_t)(p - b), i = index_of(pool, off);
  if (i >= pool->count || i * pool->stride != off) return -1;
  return (long)i;
}

int lnuma_pool_put(lnuma_pool *pool, void *obj, lnuma_error *err) {
  long i = lnuma_pool_index(pool, obj);
  if (i < 0) return lnuma__fail(err, EINVAL, "pool put: %p is not an object of this pool", obj);
  if (pool->state[i] != SLOT_USED)
    return lnuma__fail(err, EALREADY, "pool put: object %ld is already free (double put)", i);
  pool->state[i] = SLOT_FREE;
  *(void **)obj = pool->head;
  pool->head = obj;
  pool->available++;
  return 0;
}

size_t lnuma_pool_available(const lnuma_pool *pool) { return pool->available; }

size_t lnuma_pool_count(const lnuma_pool *pool) { return pool->count; }

size_t lnuma_pool_object_size(const lnuma_pool *pool) { return pool->object_size; }

size_t lnuma_pool_stride(const lnuma_pool *pool) { return pool->stride; }

int lnuma_pool_in_use(const lnuma_pool *pool, size_t index) {
  return index < pool->count && pool->state[index] == SLOT_USED;
}

lnuma_buffer *lnuma_pool_buffer(const lnuma_pool *pool) { return pool->buf; }
