/* walker: a small memory-bound program to run under `lnuma exec` and
 * `lnuma compare`.  It mallocs MIB MiB (so glibc's malloc tunables apply),
 * touches every page (the first touch places them under the memory policy
 * it was started with), links its cache lines into one random cycle and
 * walks it with dependent loads for MS milliseconds: each load waits for the
 * one before, so the time per load is the memory's latency where the buffer
 * is larger than the caches.  Prints one line:
 *
 *   walker: 64 MiB, 1234567 loads in 500 ms, ns_per_load=98.76
 *
 * Usage: walker [MIB [MS]]   (defaults: 64 MiB, 500 ms) */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LINE 64

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* xorshift64*: enough randomness for a shuffle, and the same every run. */
static uint64_t next_random(uint64_t *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 2685821657736338717ull;
}

static long arg(int argc, char **argv, int i, long def) {
  if (argc <= i) return def;
  char *end;
  long v = strtol(argv[i], &end, 10);
  if (*end != '\0' || v <= 0) {
    fprintf(stderr, "walker: '%s' is not a positive number\nusage: walker [MIB [MS]]\n",
            argv[i]);
    exit(2);
  }
  return v;
}

int main(int argc, char **argv) {
  long mib = arg(argc, argv, 1, 64), ms = arg(argc, argv, 2, 500);
  size_t bytes = (size_t)mib << 20, lines = bytes / LINE;
  char *buf = malloc(bytes);
  if (buf == NULL) {
    fprintf(stderr, "walker: cannot allocate %ld MiB\n", mib);
    return 1;
  }
  memset(buf, 1, bytes); /* first touch: the pages land where the policy says */
  /* Sattolo's shuffle of the line indexes, kept in the lines themselves:
   * one cycle through every line. */
  for (size_t i = 0; i < lines; i++) *(uint64_t *)(buf + i * LINE) = i;
  uint64_t seed = 0x9e3779b97f4a7c15ull;
  for (size_t i = lines - 1; i > 0; i--) {
    size_t j = (size_t)(next_random(&seed) % i);
    uint64_t *a = (uint64_t *)(buf + i * LINE), *b = (uint64_t *)(buf + j * LINE);
    uint64_t t = *a;
    *a = *b;
    *b = t;
  }
  uint64_t at = 0, loads = 0;
  double start = now_ms(), elapsed = 0;
  while (elapsed < (double)ms) {
    for (int k = 0; k < 100000; k++) at = *(volatile uint64_t *)(buf + at * LINE);
    loads += 100000;
    elapsed = now_ms() - start;
  }
  printf("walker: %ld MiB, %llu loads in %.0f ms, ns_per_load=%.2f (end %llu)\n", mib,
         (unsigned long long)loads, elapsed, elapsed * 1e6 / (double)loads,
         (unsigned long long)at);
  free(buf);
  return 0;
}
