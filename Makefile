# berth - see README.md. `make run` and `make test` do all the set-up.

PREFIX ?= /usr/local
CC ?= cc
SAN ?=

GIT_COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

ifeq ($(SAN),1)
BUILD := build/asan
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD := build/release
SANFLAGS :=
endif
BIN := $(BUILD)/bin

PKGS := libh2o libuv jansson libarchive libcurl openssl libgit2 libfyaml libmnl libnftables zlib libdeflate
CPPFLAGS += -D_GNU_SOURCE -DH2O_USE_LIBUV=1 -DBERTH_GIT_COMMIT='"$(GIT_COMMIT)"' -I. -Icommon
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers \
	  -fstack-protector-strong $(SANFLAGS) -MMD -MP
LDFLAGS += $(SANFLAGS)
LDLIBS_ALL = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

COMMON_SRCS := $(wildcard common/*.c)
ENGINE_SRCS := $(shell find engine builder registry -name '*.c' ! -name main.c | sort)
CLI_SRCS := $(shell find cli -name '*.c' ! -name main.c | sort)
COMPOSE_SRCS := $(wildcard compose/*.c)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
SHIM_SRCS := $(filter-out shim/main.c,$(wildcard shim/*.c))

COMMON_OBJS := $(COMMON_SRCS:%.c=$(BUILD)/%.o)
ENGINE_OBJS := $(ENGINE_SRCS:%.c=$(BUILD)/%.o)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/%.o)
COMPOSE_OBJS := $(COMPOSE_SRCS:%.c=$(BUILD)/%.o)
SHIM_OBJS := $(SHIM_SRCS:%.c=$(BUILD)/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
# Small programs the bats tests drive (tests/tools/*.c, linked like unit tests).
TOOL_BINS := $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(wildcard tests/tools/*.c))

BINARIES := $(BIN)/berthd $(BIN)/berth $(BIN)/berth-shim

.PHONY: all deps run test unit asan fuzz bench install clean
all: deps $(BINARIES) bin

# bin/ is where users find the binaries: a link to the release build.
bin: $(BINARIES)
	@if [ "$(SAN)" != 1 ]; then ln -sfn $(BUILD)/bin bin; fi

# Installs Debian packages only when a build dependency is missing.
deps:
	@pkg-config --exists $(PKGS) cmocka 2>/dev/null || contrib/install-deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/libcommon.a: $(COMMON_OBJS)
	ar rcs $@ $^

$(BUILD)/libengine.a: $(ENGINE_OBJS)
	ar rcs $@ $^

$(BUILD)/libcompose.a: $(COMPOSE_OBJS)
	ar rcs $@ $^

$(BIN)/berthd: $(BUILD)/engine/main.o $(BUILD)/libengine.a $(BUILD)/libshim.a $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_ALL)

# libengine.a for builder/'s .dockerignore matcher (only what it references is linked).
# Every berth command is a new process: jansson and libfyaml are linked in
# rather than loaded, which takes the dynamic loader's symbol lookups out of
# the start of each `berth ps`.
CLI_STATIC_LIBS := jansson fyaml
$(BIN)/berth: $(BUILD)/cli/main.o $(CLI_OBJS) $(BUILD)/libcompose.a $(BUILD)/libengine.a $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -Wl,-Bstatic $(CLI_STATIC_LIBS:%=-l%) -Wl,-Bdynamic \
		$(filter-out $(CLI_STATIC_LIBS:%=-l%),$(LDLIBS_ALL))

# berth-shim runs once per container: linked statically (no shared-library
# pages: under 1 MiB RSS) with only the common objects it references; ASan needs
# dynamic linking.
$(BUILD)/libshim.a: $(SHIM_OBJS)
	ar rcs $@ $^

$(BIN)/berth-shim: $(BUILD)/shim/main.o $(BUILD)/libshim.a $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $(if $(filter 1,$(SAN)),,-static) -o $@ $^ -ljansson

$(BUILD)/tests/test_shim_%: tests/unit/test_shim_%.c $(BUILD)/libshim.a $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o %.a,$^) -ljansson -lcmocka

$(BUILD)/tests/%: tests/unit/%.c $(CLI_OBJS) $(BUILD)/libcompose.a $(BUILD)/libengine.a $(BUILD)/libshim.a $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(filter %.o %.a,$^) $(LDLIBS_ALL) -lcmocka

$(BUILD)/tests/tools/%: tests/tools/%.c $(BUILD)/libengine.a $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.a,$^) $(LDLIBS_ALL)

run: all
	@mkdir -p .berth
	@echo "berthd: serving on unix://$(CURDIR)/.berth/berth.sock"
	@echo "In another shell:  export DOCKER_HOST=unix://$(CURDIR)/.berth/berth.sock"
	exec $(BIN)/berthd --data-root $(CURDIR)/.berth --exec-root $(CURDIR)/.berth/run \
		-H unix://$(CURDIR)/.berth/berth.sock --pidfile $(CURDIR)/.berth/berthd.pid

# Unit, integration and docker-CLI tiers; ends with "N passed, N failed".
test: all $(UNIT_BINS) $(TOOL_BINS)
	@contrib/install-deps.sh
	@BUILD=$(BUILD) tests/run.sh

unit: all $(UNIT_BINS)
	@BUILD=$(BUILD) TIERS=unit tests/run.sh

asan:
	@$(MAKE) --no-print-directory SAN=1 CC=$(CC) test

FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 60
# A fuzz target links its own .c and the sources it lists as prerequisites.
FUZZ_LINK = clang $(CPPFLAGS) -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
	-o $@ $(filter %.c,$^) $(LDLIBS_ALL)
build/fuzz/%: tests/fuzz/%.c $(COMMON_SRCS) $(ENGINE_SRCS) $(CLI_SRCS) $(SHIM_SRCS) $(COMPOSE_SRCS)
	@mkdir -p build/fuzz
	$(FUZZ_LINK)

# The Compose loader needs only common/ and compose/.
build/fuzz/fuzz_compose: tests/fuzz/fuzz_compose.c $(COMMON_SRCS) $(COMPOSE_SRCS)
	@mkdir -p build/fuzz
	$(FUZZ_LINK)

# The websocket codec needs only common/.
build/fuzz/fuzz_websocket: tests/fuzz/fuzz_websocket.c $(COMMON_SRCS) engine/api/websocket.c
	@mkdir -p build/fuzz
	$(FUZZ_LINK)

fuzz: deps $(FUZZ_TARGETS)
	@for t in $(FUZZ_TARGETS); do \
		name=$$(basename $$t); mkdir -p build/fuzz/corpus-$$name; \
		echo "fuzz: $$name for $(FUZZ_SECONDS)s"; \
		$$t -max_total_time=$(FUZZ_SECONDS) -max_len=8192 build/fuzz/corpus-$$name \
			tests/fuzz/seeds/$$name 2>&1 | tail -3 || exit 1; \
	done

bench: all
	@bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/systemd/system \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(BINARIES) $(DESTDIR)$(PREFIX)/bin/
	sed 's|@PREFIX@|$(PREFIX)|g' contrib/systemd/berth.service > $(DESTDIR)$(PREFIX)/lib/systemd/system/berth.service
	install -m 0644 contrib/systemd/berth.socket $(DESTDIR)$(PREFIX)/lib/systemd/system/
	install -m 0644 contrib/completion/berth.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/berth
	install -m 0644 contrib/man/berthd.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 contrib/man/berth.1 $(DESTDIR)$(PREFIX)/share/man/man1/

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
