/* C tests of lnuma_sysinfo_read and lnuma_mkdir_p: what a C host gets; and
 * lnuma__read_line, the reader of one-line /proc and /sys files under them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h" /* lnuma__read_line */
#include "lnuma.h"

static void facts_match_uname_and_proc(void **state) {
  (void)state;
  lnuma_sysinfo s;
  lnuma_error err;
  assert_int_equal(lnuma_sysinfo_read(&s, &err), 0);
  struct utsname u;
  assert_int_equal(uname(&u), 0);
  assert_string_equal(s.kernel_release, u.release);
  assert_string_equal(s.machine, u.machine);
  FILE *f = fopen("/proc/sys/kernel/numa_balancing", "re");
  if (f != NULL) {
    int v = -1;
    assert_int_equal(fscanf(f, "%d", &v), 1);
    fclose(f);
    assert_int_equal(s.numa_balancing, v);
  } else {
    assert_int_equal(s.numa_balancing, LNUMA_UNKNOWN);
  }
  assert_true(s.hypervisor == 0 || s.hypervisor == 1);
  assert_true(s.move_pages == 0 || s.move_pages == 1);
  assert_true(s.cgroup_memory_max == LNUMA_CGROUP_NO_LIMIT ||
              s.cgroup_memory_max == LNUMA_UNKNOWN || s.cgroup_memory_max > 0);
  /* Strings are always terminated, also when cut short. */
  assert_true(strlen(s.cgroup_cpus) < sizeof s.cgroup_cpus);
  assert_true(strlen(s.cpu_model) < sizeof s.cpu_model);
}

static void mkdir_p_makes_every_level_once(void **state) {
  (void)state;
  char base[] = "/tmp/lnuma-mkdir-XXXXXX";
  assert_non_null(mkdtemp(base));
  char path[256];
  snprintf(path, sizeof path, "%s/a//b/c/", base);
  lnuma_error err;
  assert_int_equal(lnuma_mkdir_p(path, &err), 0);
  assert_int_equal(lnuma_mkdir_p(path, &err), 0); /* again: exists, fine */
  struct stat st;
  snprintf(path, sizeof path, "%s/a/b/c", base);
  assert_int_equal(stat(path, &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  /* a file in the way */
  char file[300];
  snprintf(file, sizeof file, "%s/f", base);
  FILE *f = fopen(file, "w");
  assert_non_null(f);
  fclose(f);
  snprintf(path, sizeof path, "%s/f/g", base);
  assert_int_equal(lnuma_mkdir_p(path, &err), -1);
  assert_int_equal(err.code, ENOTDIR);
  assert_non_null(strstr(err.msg, "Not a directory"));
  assert_int_equal(lnuma_mkdir_p("", &err), -1);
  assert_int_equal(err.code, EINVAL);
  assert_int_equal(lnuma_mkdir_p(NULL, NULL), -1);
  char cmd[320];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
  assert_int_equal(system(cmd), 0);
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static void read_line_reads_one_line_and_says_empty_or_missing(void **state) {
  (void)state;
  char dir[] = "/tmp/lnuma-line-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[64], line[8];
  snprintf(path, sizeof path, "%s/f", dir);
  write_file(path, "0-3,8\nsecond\n");
  assert_int_equal(lnuma__read_line(path, line, sizeof line), 1);
  assert_string_equal(line, "0-3,8");
  write_file(path, "madvise"); /* no newline */
  assert_int_equal(lnuma__read_line(path, line, sizeof line), 1);
  assert_string_equal(line, "madvise");
  write_file(path, "0123456789\n"); /* longer than the room: cut, terminated */
  assert_int_equal(lnuma__read_line(path, line, sizeof line), 1);
  assert_string_equal(line, "0123456");
  write_file(path, "");
  strcpy(line, "old");
  assert_int_equal(lnuma__read_line(path, line, sizeof line), 0);
  assert_string_equal(line, "");
  assert_int_equal(unlink(path), 0);
  strcpy(line, "old");
  errno = 0;
  assert_int_equal(lnuma__read_line(path, line, sizeof line), -1);
  assert_int_equal(errno, ENOENT);
  assert_string_equal(line, "");
  assert_int_equal(rmdir(dir), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(facts_match_uname_and_proc),
      cmocka_unit_test(mkdir_p_makes_every_level_once),
      cmocka_unit_test(read_line_reads_one_line_and_says_empty_or_missing),
  };
  return cmocka_run_group_tests_name("sysinfo", tests, NULL, NULL);
}
