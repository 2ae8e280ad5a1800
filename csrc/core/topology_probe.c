/* Probing an XML file in a child process before the calling process loads it.
 *
 * hwloc 2.9 crashes (SIGSEGV) on some malformed XML files -- one whose root
 * object lacks complete_nodeset is enough -- and prints complaints about
 * others to stderr.  lnuma promises that nothing a script passes crashes the
 * process and that the library prints nothing, so an XML file is first loaded
 * by hwloc in a forked child whose stderr is captured: a crash or a complaint
 * makes the file invalid (with hwloc's words in the message) and the calling
 * process never runs hwloc on it.  The child reports its verdict through a
 * pipe, so this works whatever the host does with SIGCHLD. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "topology_internal.h"

enum { VERDICT_VALID = 'V', VERDICT_INVALID = 'I', VERDICT_CANNOT = 'C' };

static void child(int errfd, int verdictfd, const char *path) {
  dup2(errfd, STDERR_FILENO);
  int nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (nul >= 0) dup2(nul, STDOUT_FILENO);
  alarm(30); /* a child stuck on a lock inherited from another thread */
  char verdict = VERDICT_CANNOT;
  hwloc_topology_t hw;
  if (hwloc_topology_init(&hw) == 0) {
    lnuma__topo_configure(hw, LNUMA_TOPOLOGY_XML);
    verdict = hwloc_topology_set_xml(hw, path) == 0 && hwloc_topology_load(hw) == 0
                  ? VERDICT_VALID : VERDICT_INVALID;
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

int lnuma__topo_probe_xml(const char *path, lnuma_error *err) {
  int errpipe[2], verdictpipe[2];
  if (pipe2(errpipe, O_CLOEXEC) != 0) return 0; /* cannot probe: load directly */
  if (pipe2(verdictpipe, O_CLOEXEC) != 0) {
    close(errpipe[0]);
    close(errpipe[1]);
    return 0;
  }
  pid_t pid = fork();
  if (pid == 0) child(errpipe[1], verdictpipe[1], path);
  close(errpipe[1]);
  close(verdictpipe[1]);
  if (pid < 0) {
    close(errpipe[0]);
    close(verdictpipe[0]);
    return 0;
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

  if (n != 1) {
    /* No verdict: the child died.  A timeout says nothing about the file. */
    if (r == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) return 0;
    if (r == pid && WIFSIGNALED(status))
      return lnuma__fail(err, EINVAL, "'%s' is not a valid hwloc XML topology (hwloc "
                         "crashes on it: %s)", path, strsignal(WTERMSIG(status)));
    return lnuma__fail(err, EINVAL, "'%s' is not a valid hwloc XML topology (hwloc "
                       "crashes on it)", path);
  }
  if (verdict == VERDICT_CANNOT) return 0;
  char why[200];
  summarise(said, why, sizeof why);
  if (verdict == VERDICT_INVALID || why[0] != '\0')
    return lnuma__fail(err, EINVAL, "'%s' is not a valid hwloc XML topology%s%s", path,
                       why[0] != '\0' ? ": hwloc says: " : "", why);
  return 0;
}
