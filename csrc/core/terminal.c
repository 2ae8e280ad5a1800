/* Whether a file descriptor is a terminal: progress of long benchmarks is
 * shown on stderr only then (never into a pipe or a file). */
#include <unistd.h>

#include "internal.h"

int lnuma_is_terminal(int fd) { return fd >= 0 && isatty(fd) == 1; }
