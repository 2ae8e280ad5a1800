/* Probing an XML file in a child process before the calling process loads it.
 *
 * hwloc 2.9 crashes (SIGSEGV) on some malformed XML files -- one whose root
 * object lacks complete_nodeset is enough -- and prints complaints about
 * others to stderr.  lnuma promises that nothing a script passes crashes the
 * process and that the library prints nothing, so an XML file is first loaded
 * by hwloc in a forked child whose stderr is captured: a crash or a complaint
 * makes the file invalid (with hwloc's words in the message) and the calling
 * process never runs hwloc on it.  The child reports its verdict through a
 * pipe, so this works whatever the host does with SIGCHLD.
 *
 * The child also bounds what the file may cost: LNUMA_TOPOLOGY_XML_MEMORY
 * bytes of address space beyond what it inherits (RLIMIT_AS) and
 * LNUMA_TOPOLOGY_XML_SECONDS seconds (an alarm).  A file the child could not
 * load, for whatever reason, is never loaded by the calling process. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "topology_internal.h"

enum { VERDICT_VALID = 'V', VERDICT_INVALID = 'I', VERDICT_MEMORY = 'M', VERDICT_CANNOT = 'C' };

/* The address space this process has mapped (VmSize), or 0. */
static size_t mapped_bytes(void) {
  int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[64];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  unsigned long long pages = strtoull(buf, NULL, 10);
  return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}

static void child(int errfd, int verdictfd, const char *text, size_t len, size_t mapped) {
  dup2(errfd, STDERR_FILENO);
  int nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (nul >= 0) dup2(nul, STDOUT_FILENO);
  /* Also ends a child stuck on a lock inherited from another thread. */
  alarm(LNUMA_TOPOLOGY_XML_SECONDS);
  if (mapped > 0) {
    struct rlimit rl;
    rl.rlim_cur = rl.rlim_max = (rlim_t)(mapped + LNUMA_TOPOLOGY_XML_MEMORY);
    (void)setrlimit(RLIMIT_AS, &rl);
  }
  char verdict = VERDICT_CANNOT;
  hwloc_topology_t hw;
  errno = 0;
  if (hwloc_topology_init(&hw) == 0) {
    lnuma__topo_configure(hw, LNUMA_TOPOLOGY_XML);
    verdict = hwloc_topology_set_xmlbuffer(hw, text, (int)len + 1) == 0 &&
                      hwloc_topology_load(hw) == 0
                  ? VERDICT_VALID
                  : errno == ENOMEM ? VERDICT_MEMORY : VERDICT_INVALID;
  }
  fflush(stderr);
  ssize_t w = write(verdictfd, &verdict, 1);
  _exit(w == 1 ? 0 : 1);
}

/* Reads what the child said on stderr (up to cap-1 bytes kept) until EOF. */
static void drain(int fd, char *buf, size_t cap) {
  size_t len = 0;
  for (;;) {
    char chunk[512];
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    size_t take = (size_t)n < cap - 1 - len ? (size_t)n : cap - 1 - len;
    memcpy(buf + len, chunk, take);
    len += take;
  }
  buf[len] = '\0';
}

/* hwloc's complaints are boxed in lines of '*': keep the sentences, joined. */
static void summarise(const char *text, char *out, size_t cap) {
  size_t len = 0;
  out[0] = '\0';
  while (*text != '\0' && len + 1 < cap) {
    const char *eol = strchr(text, '\n');
    size_t n = eol != NULL ? (size_t)(eol - text) : strlen(text);
    const char *line = text;
    while (n > 0 && (*line == '*' || *line == ' ')) line++, n--;
    while (n > 0 && (line[n - 1] == '*' || line[n - 1] == ' ' || line[n - 1] == '\r')) n--;
    if (n > 0) {
      int w = snprintf(out + len, cap - len, "%s%.*s", len > 0 ? " " : "", (int)n, line);
      if (w < 0) break;
      len += (size_t)w < cap - len ? (size_t)w : cap - len - 1;
    }
    if (eol == NULL) break;
    text = eol + 1;
  }
}

/* What a failed load is told with: the limits it ran under. */
static void limits_text(char *out, size_t cap) {
  char mem[32];
  lnuma__format_bytes(LNUMA_TOPOLOGY_XML_MEMORY, mem, sizeof mem);
  snprintf(out, cap, "an XML topology may take %s of memory and %d s to load", mem,
           LNUMA_TOPOLOGY_XML_SECONDS);
}

int lnuma__topo_probe_xml(const char *path, const char *text, size_t len, lnuma_error *err) {
  char limits[96];
  limits_text(limits, sizeof limits);
  int errpipe[2], verdictpipe[2];
  if (pipe2(errpipe, O_CLOEXEC) != 0)
    return lnuma__fail(err, errno, "cannot check '%s' in a child process: pipe: %s", path,
                       strerror(errno));
  if (pipe2(verdictpipe, O_CLOEXEC) != 0) {
    int e = errno;
    close(errpipe[0]);
    close(errpipe[1]);
    return lnuma__fail(err, e, "cannot check '%s' in a child process: pipe: %s", path,
                       strerror(e));
  }
  size_t mapped = mapped_bytes();
  pid_t pid = fork();
  if (pid == 0) child(errpipe[1], verdictpipe[1], text, len, mapped);
  int fork_errno = errno;
  close(errpipe[1]);
  close(verdictpipe[1]);
  if (pid < 0) {
    close(errpipe[0]);
    close(verdictpipe[0]);
    return lnuma__fail(err, fork_errno, "cannot check '%s' in a child process: fork: %s",
                       path, strerror(fork_errno));
  }
  char said[2048];
  drain(errpipe[0], said, sizeof said);
  char verdict = 0;
  ssize_t n;
  do n = read(verdictpipe[0], &verdict, 1);
  while (n < 0 && errno == EINTR);
  close(errpipe[0]);
  close(verdictpipe[0]);
  int status = 0;
  pid_t r;
  do r = waitpid(pid, &status, 0);
  while (r < 0 && errno == EINTR);

  if (n != 1) { /* no verdict: the child died */
    if (r == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
      return lnuma__fail(err, ETIME, "'%s': hwloc did not finish loading it (%s)", path,
                         limits);
    if (r == pid && WIFSIGNALED(status))
      return lnuma__fail(err, EINVAL, "'%s' is not a valid hwloc XML topology (hwloc "
                         "crashes on it: %s; %s)", path, strsignal(WTERMSIG(status)), limits);
    return lnuma__fail(err, EINVAL, "'%s' is not a valid hwloc XML topology (hwloc "
                       "crashes on it; %s)", path, limits);
  }
  if (verdict == VERDICT_MEMORY)
    return lnuma__fail(err, ENOMEM, "'%s': hwloc ran out of memory loading it (%s)", path,
                       limits);
  if (verdict == VERDICT_CANNOT)
    return lnuma__fail(err, ENOMEM, "cannot check '%s' in a child process: hwloc_topology_init "
                       "failed", path);
  char why[200];
  summarise(said, why, sizeof why);
  if (verdict == VERDICT_INVALID || why[0] != '\0')
    return lnuma__fail(err, EINVAL, "'%s' is not a valid hwloc XML topology%s%s", path,
                       why[0] != '\0' ? ": hwloc says: " : "", why);
  return 0;
}
