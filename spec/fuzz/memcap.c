/* A memory fence for the fuzzers (LD_PRELOAD, after the sanitizer
 * runtimes): an anonymous mapping larger than LNUMA_FUZZ_MAP_LIMIT bytes
 * (default 1 GiB) fails with ENOMEM, as on a machine without that much
 * memory.  The fuzzers pass sizes that are legal and large now and then
 * (2^31, a pool of 65536 objects of 64 KiB); on a shared machine such a
 * call must not take gigabytes, and a library must cope with ENOMEM anyway.
 * Mappings with MAP_NORESERVE or MAP_FIXED (a sanitizer's shadow) and file
 * mappings pass through. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/types.h>

typedef void *(*mmap_fn)(void *, size_t, int, int, int, off_t);

static size_t limit(void) {
  const char *s = getenv("LNUMA_FUZZ_MAP_LIMIT");
  return s != NULL ? (size_t)strtoull(s, NULL, 10) : (size_t)1 << 30;
}

static int refused(size_t len, int flags) {
  return (flags & MAP_ANONYMOUS) && !(flags & (MAP_NORESERVE | MAP_FIXED)) && len > limit();
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  static mmap_fn next;
  if (refused(len, flags)) {
    errno = ENOMEM;
    return MAP_FAILED;
  }
  if (next == NULL) next = (mmap_fn)dlsym(RTLD_NEXT, "mmap");
  return next(addr, len, prot, flags, fd, off);
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  static mmap_fn next;
  if (refused(len, flags)) {
    errno = ENOMEM;
    return MAP_FAILED;
  }
  if (next == NULL) next = (mmap_fn)dlsym(RTLD_NEXT, "mmap64");
  return next(addr, len, prot, flags, fd, off);
}
