# lnuma -- build, test, install.  `make run` and `make test` are all a fresh
# Debian 12 machine needs (as root: missing packages are installed with apt-get).

LUA        ?= lua5.4
LUA_PC     ?= lua5.4
PREFIX     ?= /usr/local
DESTDIR    ?=
CC         ?= cc
LUA_VERSION = 5.4
LIBDIR     ?= $(PREFIX)/lib
INCDIR     ?= $(PREFIX)/include
BINDIR     ?= $(PREFIX)/bin
LUA_CDIR   ?= $(LIBDIR)/lua/$(LUA_VERSION)
LUA_LDIR   ?= $(PREFIX)/share/lua/$(LUA_VERSION)
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig

BUILD      ?= build
OPTFLAGS   ?= -O2 -g
WARNFLAGS   = -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
              -Wundef -Wwrite-strings -Werror
LUA_CFLAGS := $(shell pkg-config --cflags $(LUA_PC) 2>/dev/null || echo -I/usr/include/lua5.4)
LUA_LIBS   := $(shell pkg-config --libs $(LUA_PC) 2>/dev/null || echo -llua5.4)
CFLAGS_ALL  = -std=c11 -D_GNU_SOURCE -DLNUMA_BUILDING -fPIC -fvisibility=hidden \
              -pthread $(OPTFLAGS) $(WARNFLAGS) -Icsrc/include -Icsrc/core \
              $(LUA_CFLAGS) $(CFLAGS)
SYSLIBS     = -lhwloc -lnuma -lpthread -lm

SONAME_MAJOR = 0
# The version is the C header's (lnuma._VERSION, lnuma_version()): one place.
VERSION     := $(shell sed -n 's/^\#define LNUMA_VERSION_STRING "\(.*\)"/\1/p' csrc/include/lnuma.h)
SOVERSION    = $(VERSION)

CORE_SRC = $(sort $(wildcard csrc/core/*.c))
LUA_SRC  = $(sort $(wildcard csrc/lua/*.c))
HOST_SRC = $(sort $(wildcard csrc/host/*.c))
CORE_OBJ = $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
LUA_OBJ  = $(LUA_SRC:%.c=$(BUILD)/obj/%.o)
# The Lua face is embedded in liblnuma (a C file generated from
# lua/lnuma/*.lua), so hosts load plans and `require "lnuma"` without paths.
LUA_SUBDIRS = cli bench report
LUA_FILES = $(sort $(wildcard lua/lnuma/*.lua $(LUA_SUBDIRS:%=lua/lnuma/%/*.lua)))
# What liblnuma carries for a C host: the module, without the command line
# and the SVG renderers (a host that wants them installs the Lua files).
HOST_LUA_FILES = $(filter-out lua/lnuma/cli.lua lua/lnuma/cli/%.lua lua/lnuma/%_svg.lua \
                 lua/lnuma/report/svg.lua, \
                 $(LUA_FILES))
EMBED_C   = $(BUILD)/gen/lua_files.c
HOST_OBJ = $(HOST_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/lua_files.o

MODULE   = $(BUILD)/lnuma/core.so
SHLIB    = $(BUILD)/liblnuma.so.$(SOVERSION)
STLIB    = $(BUILD)/liblnuma.a

# Debian packages the build, the tests and the VM stage need.
DEBS = gcc make pkg-config lua5.4 liblua5.4-dev libnuma-dev libhwloc-dev \
       lua-busted lua-check lua-argparse lua-dkjson numactl hwloc luarocks \
       libcmocka-dev cppcheck valgrind qemu-system-x86 linux-image-amd64 \
       busybox-static cpio lua-ldoc doxygen
BENCH_DEBS = likwid mbw

.PHONY: FORCE all deps deps-bench run test test-busted test-c test-vm vm-shell sanitize lint \
        bench install uninstall clean examples lint-lua lint-c valgrind san-build tsan-build \
        tsan fuzz rock docs

all: $(MODULE) $(SHLIB) $(STLIB)

# --- dependencies ----------------------------------------------------------
deps:
	@sh spec/support/install-deps $(DEBS)

deps-bench:
	@sh spec/support/install-deps $(DEBS) $(BENCH_DEBS)

# --- build -----------------------------------------------------------------
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

# The measured loops (csrc/core/kernels_*.c, bulk*.c) are built -O3 by their
# own pragma (csrc/core/optimize.h), so the rock's -O2 builds them alike.

# The Lua module carries the core itself (as the rock does) and takes its Lua
# symbols from the interpreter that loads it: it must not link liblua.
$(MODULE): $(CORE_OBJ) $(LUA_OBJ)
	@mkdir -p $(dir $@)
	$(CC) -shared -pthread -o $@ $^ $(SYSLIBS) $(LDFLAGS)

# The library C hosts link: core, bindings and host API, with liblua.
$(SHLIB): $(CORE_OBJ) $(LUA_OBJ) $(HOST_OBJ)
	$(CC) -shared -pthread -Wl,-soname,liblnuma.so.$(SONAME_MAJOR) -o $@ $^ \
	  $(LUA_LIBS) $(SYSLIBS) $(LDFLAGS)
	ln -sf liblnuma.so.$(SOVERSION) $(BUILD)/liblnuma.so.$(SONAME_MAJOR)
	ln -sf liblnuma.so.$(SOVERSION) $(BUILD)/liblnuma.so

$(STLIB): $(CORE_OBJ) $(LUA_OBJ) $(HOST_OBJ)
	rm -f $@
	ar rcs $@ $^

# The list of files is a prerequisite too (rewritten only when it changes),
# so a module added or removed regenerates the embedding.
LUA_LIST = $(BUILD)/gen/lua_files.list
$(LUA_LIST): FORCE
	@mkdir -p $(dir $@)
	@echo "$(HOST_LUA_FILES)" | cmp -s - $@ || echo "$(HOST_LUA_FILES)" >$@

$(EMBED_C): $(HOST_LUA_FILES) $(LUA_LIST) csrc/host/embed.lua
	@mkdir -p $(dir $@)
	$(LUA) csrc/host/embed.lua $@ $(HOST_LUA_FILES)

$(BUILD)/obj/gen/lua_files.o: $(EMBED_C)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Icsrc/host -c $< -o $@

-include $(CORE_OBJ:.o=.d) $(LUA_OBJ:.o=.d) $(HOST_OBJ:.o=.d)

# --- the main job ----------------------------------------------------------
run: deps all
	$(LUA) bin/lnuma survey

# --- tests -----------------------------------------------------------------
# Every stage runs even when an earlier one fails; the last line sums them.
# The sanitizer builds (build-san, build-tsan) are made, or brought up to
# date, first: the fuzz stage runs a slice of the fuzzer on build-san, the
# tsan stage the many-threads test on build-tsan.
test: deps all examples san-build tsan-build
	@LUA=$(LUA) BUILD=$(BUILD) bash spec/support/run-tests

test-busted: all
	@LUA=$(LUA) BUILD=$(BUILD) bash spec/support/run-tests busted

test-c: all
	@LUA=$(LUA) BUILD=$(BUILD) bash spec/support/run-tests c

# The #multinode specs inside emulated NUMA machines (QEMU, spec/vm): every
# topology of spec/vm/topologies/, or `make test-vm TOPO=two-node` (a list is
# fine); `make vm-shell TOPO=four-node` boots one with a shell on the console.
TOPO ?= all
test-vm: all examples
	@LUA=$(LUA) BUILD=$(BUILD) TOPO="$(TOPO)" bash spec/support/run-tests vm

vm-shell: all examples
	@BUILD=$(BUILD) bash spec/vm/run --shell $(if $(filter all,$(TOPO)),two-node,$(TOPO))

# The C tests under valgrind (leaks and memory errors fail them).
valgrind: all
	@LUA=$(LUA) BUILD=$(BUILD) VALGRIND=1 bash spec/support/run-tests c

# The ASan+UBSan build (build-san) and the ThreadSanitizer build (build-tsan,
# the library only), each in its own folder so they are rebuilt only when a
# source changes.
san-build:
	@$(MAKE) --no-print-directory BUILD=build-san \
	  OPTFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  LDFLAGS="-fsanitize=address,undefined" all

tsan-build:
	@$(MAKE) --no-print-directory BUILD=build-tsan \
	  OPTFLAGS="-O1 -g -fsanitize=thread -fno-omit-frame-pointer" \
	  LDFLAGS="-fsanitize=thread" build-tsan/liblnuma.a

sanitize: deps san-build
	@LUA=$(LUA) BUILD=build-san SANITIZE=1 bash spec/support/run-tests busted c

# 8 threads, each with its own lua_State and lnuma, under ThreadSanitizer
# (spec/c/test_threads.c; suppressions, each with its reason: spec/c/tsan.supp).
tsan: deps tsan-build
	@LUA=$(LUA) BUILD=$(BUILD) bash spec/support/run-tests tsan

# The fuzzers (spec/fuzz) on build-san: FUZZ_CALLS random API calls in seeds
# of 20000 (1, 2, 3, ... plus one fresh seed, printed), then FUZZ_PLANS random
# plan files into `lnuma plan check` and lnuma_plan_load.  On a 2-core AMD
# EPYC (Zen 5) a million calls took 20 minutes (about 900 calls/s under ASan,
# printed per seed) and 500 plans 2 minutes: `make fuzz` takes about 25.
FUZZ_CALLS ?= 1000000
FUZZ_PLANS ?= 1000
fuzz: deps san-build
	@LUA=$(LUA) bash spec/fuzz/run --build build-san --calls $(FUZZ_CALLS) --per-seed 20000 \
	  --fresh --plans $(FUZZ_PLANS)

# make rock: the release rockspec (the scm one with this version and its
# source archive) and lnuma-$(VERSION)-1.src.rock beside it, which `luarocks
# install ./lnuma-$(VERSION)-1.src.rock` installs with no checkout (the
# archive travels inside).  ROCK_URL is where the archive is published.
ROCK_DIR ?= $(BUILD)/rock
ROCK_URL ?= file://$(abspath $(ROCK_DIR))/lnuma-$(VERSION).tar.gz
rock: deps
	rm -rf $(ROCK_DIR) && mkdir -p $(ROCK_DIR)
	tar -czf $(ROCK_DIR)/lnuma-$(VERSION).tar.gz --transform 's,^,lnuma-$(VERSION)/,' \
	  csrc lua bin rockspec README.md
	sed -e 's/^version = "scm-1"/version = "$(VERSION)-1"/' \
	  -e 's|^  url = "git+file:///dev/null",|  url = "$(ROCK_URL)",\n  dir = "lnuma-$(VERSION)",|' \
	  rockspec/lnuma-scm-1.rockspec > $(ROCK_DIR)/lnuma-$(VERSION)-1.rockspec
	cd $(ROCK_DIR) && luarocks --lua-version=$(LUA_VERSION) pack lnuma-$(VERSION)-1.rockspec
	@echo "make rock: $(ROCK_DIR)/lnuma-$(VERSION)-1.src.rock"

LUACHECK_DIRS = lua bin spec $(wildcard examples)

lint: lint-lua lint-c docs

# make docs: the Lua API (LDoc, config.ld) into build/docs/lua and the C API
# (Doxygen over csrc/include) into build/docs/c; a warning from either fails.
DOXYGEN_CONFIG = PROJECT_NAME=lnuma INPUT=csrc/include RECURSIVE=YES \
  OUTPUT_DIRECTORY=$(BUILD)/docs/c GENERATE_LATEX=NO QUIET=YES WARN_IF_UNDOCUMENTED=YES \
  WARN_AS_ERROR=FAIL_ON_WARNINGS OPTIMIZE_OUTPUT_FOR_C=YES JAVADOC_AUTOBRIEF=YES \
  HAVE_DOT=NO FULL_PATH_NAMES=YES STRIP_FROM_PATH=csrc/include
docs: deps
	@rm -rf $(BUILD)/docs # no page of a module that is gone
	@ldoc --fatalwarnings -q -d $(BUILD)/docs/lua . >/dev/null
	@mkdir -p $(BUILD)/docs/c
	@printf '%s\n' $(DOXYGEN_CONFIG) | doxygen -
	@echo "make docs: $(BUILD)/docs/lua/index.html and $(BUILD)/docs/c/html/index.html"

lint-lua:
	luacheck -q --no-color $(LUACHECK_DIRS)

lint-c:
	cppcheck --quiet --error-exitcode=1 --enable=warning,style,performance,portability \
	  --std=c11 --inline-suppr --suppress=missingIncludeSystem -D__GNUC__ \
	  -DLNUMA_BUILDING -Icsrc/include -Icsrc/core csrc spec/bench

# Benchmarks: figures and ratios against reference tools, written to
# $(BUILD)/bench/results.txt (never asserted in tests).  BENCH="bandwidth
# clock" runs only those files of spec/bench.
bench: deps-bench all
	@LUA=$(LUA) BUILD=$(BUILD) BENCH="$(BENCH)" bash spec/bench/run

clean:
	rm -rf build build-san build-tsan

# --- examples --------------------------------------------------------------
# The example C host, built by its own Makefile with pkg-config only, here
# against this build tree (lnuma-uninstalled.pc; rpath to $(BUILD)).
# A copy goes to $(BUILD)/examples, which the VM stage puts in its machines.
examples: all $(BUILD)/lnuma-uninstalled.pc
	PKG_CONFIG_PATH=$(CURDIR)/$(BUILD) $(MAKE) -C examples/host \
	  LDFLAGS="-Wl,-rpath,$(CURDIR)/$(BUILD) $(LDFLAGS)"
	@mkdir -p $(BUILD)/examples/host
	cp examples/host/engine $(BUILD)/examples/host/engine
	$(MAKE) -C examples/walker walker
	@mkdir -p $(BUILD)/examples/walker
	cp examples/walker/walker $(BUILD)/examples/walker/walker

# --- install ---------------------------------------------------------------
# lnuma.pc from csrc/lnuma.pc.in: for a prefix (install) or for this build
# tree ($(BUILD)/lnuma-uninstalled.pc, which pkg-config prefers when
# PKG_CONFIG_PATH names $(BUILD): `make examples` builds against it).
PC_SED = sed -e 's|@VERSION@|$(SOVERSION)|' -e 's|@LUA_PC@|$(LUA_PC)|'

$(BUILD)/lnuma-uninstalled.pc: csrc/lnuma.pc.in Makefile
	@mkdir -p $(dir $@)
	$(PC_SED) -e 's|@PREFIX@|$(CURDIR)|' -e 's|@LIBDIR@|$(CURDIR)/$(BUILD)|' \
	  -e 's|@INCDIR@|$(CURDIR)/csrc/include|' $< >$@

install: all
	install -d $(DESTDIR)$(LUA_CDIR)/lnuma $(DESTDIR)$(LUA_LDIR)/lnuma \
	  $(LUA_SUBDIRS:%=$(DESTDIR)$(LUA_LDIR)/lnuma/%) \
	  $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR)/lnuma \
	  $(DESTDIR)$(PKGCONFIGDIR)
	install -m 755 $(MODULE) $(DESTDIR)$(LUA_CDIR)/lnuma/core.so
	install -m 644 lua/lnuma/*.lua $(DESTDIR)$(LUA_LDIR)/lnuma/
	for d in $(LUA_SUBDIRS); do install -m 644 lua/lnuma/$$d/*.lua $(DESTDIR)$(LUA_LDIR)/lnuma/$$d/; done
	install -m 755 bin/lnuma $(DESTDIR)$(BINDIR)/lnuma
	install -m 644 csrc/include/lnuma.h csrc/include/lnuma_lua.h $(DESTDIR)$(INCDIR)/
	install -m 644 csrc/include/lnuma/*.h $(DESTDIR)$(INCDIR)/lnuma/
	install -m 755 $(SHLIB) $(DESTDIR)$(LIBDIR)/
	ln -sf liblnuma.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/liblnuma.so.$(SONAME_MAJOR)
	ln -sf liblnuma.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/liblnuma.so
	install -m 644 $(STLIB) $(DESTDIR)$(LIBDIR)/
	$(PC_SED) -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCDIR@|$(INCDIR)|' \
	  csrc/lnuma.pc.in >$(DESTDIR)$(PKGCONFIGDIR)/lnuma.pc

# Removes exactly what install put there, then the folders install made,
# where they are left empty (never above PREFIX).
uninstall:
	rm -f $(DESTDIR)$(LUA_CDIR)/lnuma/core.so $(DESTDIR)$(BINDIR)/lnuma \
	  $(DESTDIR)$(INCDIR)/lnuma.h $(DESTDIR)$(INCDIR)/lnuma_lua.h
	rm -f $(patsubst lua/lnuma/%,$(DESTDIR)$(LUA_LDIR)/lnuma/%,$(LUA_FILES))
	-rmdir $(LUA_SUBDIRS:%=$(DESTDIR)$(LUA_LDIR)/lnuma/%) 2>/dev/null
	rm -f $(addprefix $(DESTDIR)$(INCDIR)/lnuma/,$(notdir $(wildcard csrc/include/lnuma/*.h)))
	rm -f $(addprefix $(DESTDIR)$(LIBDIR)/,liblnuma.so.$(SOVERSION) \
	  liblnuma.so.$(SONAME_MAJOR) liblnuma.so liblnuma.a) $(DESTDIR)$(PKGCONFIGDIR)/lnuma.pc
	-rmdir $(DESTDIR)$(LUA_CDIR)/lnuma $(DESTDIR)$(LUA_LDIR)/lnuma $(DESTDIR)$(INCDIR)/lnuma 2>/dev/null
	-for d in $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(LUA_CDIR) $(DESTDIR)$(dir $(LUA_CDIR)) \
	  $(DESTDIR)$(LUA_LDIR) $(DESTDIR)$(dir $(LUA_LDIR)) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(BINDIR) \
	  $(DESTDIR)$(INCDIR) $(DESTDIR)$(PREFIX)/share; do \
	  rmdir "$$d" 2>/dev/null || true; done
