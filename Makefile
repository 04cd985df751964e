# Makefile — nsvault: the extensions (PGXS), their tests, and the two commands.

MODULE_big = nsvault
OBJS = \
	src/nsvault.o \
	src/guc.o \
	src/validate.o \
	src/secure_mem.o \
	src/catalog.o \
	src/spi_plans.o \
	src/index_lookup.o \
	src/jsonb_build.o \
	src/crypto.o \
	src/keydb.o \
	src/key_cache.o \
	src/key_cache_shmem.o \
	src/secrets.o \
	src/registry_ref.o \
	src/registries.o \
	src/caller.o \
	src/access.o \
	src/audit.o \
	src/audit_queue.o \
	src/audit_writer.o \
	src/utility_hook.o \
	src/key_link.o \
	src/key_lifecycle.o \
	src/key_destroyer.o \
	src/namespace_admin.o \
	src/listing.o

EXTENSION = nsvault nsvault_keys
DATA = nsvault--0.1.sql nsvault--0.1--0.2.sql nsvault--0.2--0.3.sql nsvault_keys--0.1.sql nsvault_keys--0.1--0.2.sql
PGFILEDESC = "nsvault - namespace-scoped encrypted secrets"

REGRESS = setup keys secrets get_secrets validation integrity privileges key_link registries image_matching namespace_access hostile_input audit_reads caller key_lifecycle upgrade collation shared_key_cache
REGRESS_OPTS = --temp-instance=tmp_check_regress --temp-config=test/regress.conf
TAP_TESTS = 1

PG_CONFIG ?= pg_config
# no JIT bitcode: it needs clang, and JIT gains nothing on these small functions
override with_llvm = no
# rebuild what includes a header when the header changes (shared-memory
# layouts live in headers: a stale object would overrun them)
override autodepend = yes
PG_CPPFLAGS = -I$(srcdir)/src
PG_CFLAGS = -Wall -Wmissing-prototypes -Werror=implicit-function-declaration

PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
else
all:
	@echo "PostgreSQL's build files (PGXS) are missing: run 'make deps' first." >&2; exit 1
endif

# The client: a plain program against libpq, not PGXS's PROGRAM, which
# would link it with the server's whole link line.
CLIENT_BINDIR ?= /usr/local/bin
CLIENT_CFLAGS = -std=gnu11 -O2 -g -Wall -Wextra -Wno-unused-parameter \
	-I$(shell $(PG_CONFIG) --includedir)
CLIENT_LIBS = -L$(shell $(PG_CONFIG) --libdir) -lpq -ljansson -ljq -lyaml -lm
# js(...) templates: the client's side, and nsvault-js, the program each
# expression runs in (Duktape; only it links libduktape)
JS_SOURCES = $(addprefix client/, js.c js_scan.c)
JS_HELPER_OBJS = $(addprefix client/, js_helper.o js_env.o js_text.o js_value.o json_text.o \
	io.o args.o report.o secure_heap.o)
CLIENT_OBJS = $(addprefix client/, main.o admin.o enrich.o connection.o jx.o \
	json_text.o yaml_json.o io.o args.o report.o secure_heap.o utf8.o) $(JS_SOURCES:.c=.o)
# the template engine's unit tests run under ASan and UBSan, with no database
SANITIZE = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

client/%.o: client/%.c client/nsvault.h client/js_internal.h
	$(CC) $(CLIENT_CFLAGS) -c -o $@ $<

client/nsvault: $(CLIENT_OBJS)
	$(CC) -o $@ $(CLIENT_OBJS) $(CLIENT_LIBS)

client/nsvault-js: $(JS_HELPER_OBJS)
	$(CC) -o $@ $(JS_HELPER_OBJS) -ljansson -lduktape -lm

TEST_JX_SOURCES = $(addprefix client/, test_jx.c jx.c json_text.c yaml_json.c io.c report.c) \
	$(JS_SOURCES)
# js(...) cases run client/nsvault-js, found beside the test program
client/test_jx: $(TEST_JX_SOURCES) client/nsvault.h client/nsvault-js
	$(CC) $(CLIENT_CFLAGS) -O1 $(SANITIZE) -o $@ $(TEST_JX_SOURCES) -ljansson -ljq -lyaml -lm

all: client/nsvault client/nsvault-js

install: install-client
install-client: client/nsvault client/nsvault-js
	install -d '$(DESTDIR)$(CLIENT_BINDIR)'
	install -m 755 client/nsvault '$(DESTDIR)$(CLIENT_BINDIR)/nsvault'
	install -m 755 client/nsvault-js '$(DESTDIR)$(CLIENT_BINDIR)/nsvault-js'

clean: clean-client
clean-client:
	rm -f client/*.o client/nsvault client/nsvault-js client/test_jx
	rm -rf fuzz/build

unit-test: client/test_jx
	client/test_jx

# libFuzzer targets: make fuzz (not part of make test) runs each for
# FUZZ_SECONDS and fails on any crash
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_TARGETS = fuzz/build/fuzz_jx fuzz/build/fuzz_batch fuzz/build/fuzz_readers \
	fuzz/build/fuzz_image_ref

FUZZ_JX_SOURCES = fuzz/fuzz_jx.c fuzz/fuzz_common.c client/jx.c client/json_text.c client/io.c \
	$(JS_SOURCES)
fuzz/build/fuzz_jx: $(FUZZ_JX_SOURCES) fuzz/fuzz_common.h client/nsvault.h
	@mkdir -p fuzz/build
	$(FUZZ_CC) $(FUZZ_FLAGS) -Iclient -I$(shell $(PG_CONFIG) --includedir) -o $@ \
		$(FUZZ_JX_SOURCES) -ljansson -ljq -lm

# the batch loop, with the client's other parts but its allocator: ASan brings its own
FUZZ_BATCH_SOURCES = fuzz/fuzz_batch.c fuzz/fuzz_common.c client/enrich.c client/jx.c client/json_text.c \
	client/yaml_json.c client/connection.c client/io.c client/args.c client/utf8.c $(JS_SOURCES)
fuzz/build/fuzz_batch: $(FUZZ_BATCH_SOURCES) fuzz/fuzz_common.h client/nsvault.h
	@mkdir -p fuzz/build
	$(FUZZ_CC) $(FUZZ_FLAGS) -Iclient -I$(shell $(PG_CONFIG) --includedir) -o $@ \
		$(FUZZ_BATCH_SOURCES) -L$(shell $(PG_CONFIG) --libdir) -lpq -ljansson -ljq -lyaml -lm

fuzz/build/fuzz_readers: fuzz/fuzz_readers.c client/yaml_json.c client/json_text.c client/nsvault.h
	@mkdir -p fuzz/build
	$(FUZZ_CC) $(FUZZ_FLAGS) -Iclient -I$(shell $(PG_CONFIG) --includedir) -o $@ \
		fuzz/fuzz_readers.c client/yaml_json.c client/json_text.c -lyaml -ljansson -lm

# the server's parser, built against a libc shim of the few server calls it makes
fuzz/build/fuzz_image_ref: fuzz/fuzz_image_ref.c src/registry_ref.c src/registry_ref.h fuzz/shim/postgres.h
	@mkdir -p fuzz/build
	$(FUZZ_CC) $(FUZZ_FLAGS) -Ifuzz/shim -Isrc -o $@ fuzz/fuzz_image_ref.c src/registry_ref.c

fuzz-deps:
	@scripts/deps.sh --fuzz

# The performance table (not part of make test): see README, Performance.
bench: build-install
	@scripts/deps.sh --bench
	@scripts/bench.sh

fuzz: fuzz-deps
	@$(MAKE) -s $(FUZZ_TARGETS) client/nsvault-js
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh $(FUZZ_TARGETS)

.PHONY: deps build-install test demo demo-stop install-client clean-client unit-test fuzz fuzz-deps bench

# Installs the system packages the build and tests need (apt, as root).
deps:
	@scripts/deps.sh

build-install: deps
	@scripts/build-install.sh

# Builds, installs and runs every test; as root, tests run as postgres.
test: build-install
	@scripts/run-tests.sh

# Starts a key cluster (TLS only) and a main cluster, and runs the seed's demo.
demo: build-install
	@scripts/demo.sh

demo-stop:
	@scripts/demo-stop.sh
