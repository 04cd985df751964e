# Makefile — nsvault: the extensions (PGXS), their tests, and the two commands.

MODULE_big = nsvault
OBJS = \
	src/nsvault.o \
	src/guc.o \
	src/validate.o \
	src/secure_mem.o \
	src/catalog.o \
	src/distribution.o \
	src/spi_plans.o \
	src/index_lookup.o \
	src/query_lookup.o \
	src/jsonb_build.o \
	src/crypto.o \
	src/keydb.o \
	src/key_cache.o \
	src/key_cache_shmem.o \
	src/secrets.o \
	src/secret_write.o \
	src/secret_versions.o \
	src/secret_metadata.o \
	src/registry_ref.o \
	src/registries.o \
	src/registry_handout.o \
	src/caller.o \
	src/access.o \
	src/audit.o \
	src/audit_queue.o \
	src/audit_insert.o \
	src/audit_writer.o \
	src/utility_hook.o \
	src/key_link.o \
	src/key_lifecycle.o \
	src/key_destroyer.o \
	src/namespace_admin.o \
	src/listing.o

EXTENSION = nsvault nsvault_keys
DATA = nsvault--0.1.sql nsvault--0.1--0.2.sql nsvault--0.2--0.3.sql nsvault--0.3--0.4.sql nsvault--0.4--0.5.sql nsvault--0.5--0.6.sql nsvault--0.6--0.7.sql nsvault--0.7--0.8.sql nsvault--0.8--0.9.sql nsvault_keys--0.1.sql nsvault_keys--0.1--0.2.sql
PGFILEDESC = "nsvault - namespace-scoped encrypted secrets"

REGRESS = setup keys secrets secret_versions get_secrets validation integrity crypto_format privileges key_link registries image_matching registry_credential namespace_access hostile_input audit_reads caller key_lifecycle upgrade upgrade_0_4 upgrade_0_5 upgrade_0_6 upgrade_0_7 upgrade_0_8 upgrade_0_9 collation shared_key_cache
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
# values are sealed with OpenSSL's EVP interface (src/crypto.c)
SHLIB_LINK = -lcrypto

PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
else
all:
	@echo "PostgreSQL's build files (PGXS) are missing: run 'make deps' first." >&2; exit 1
endif

# The client, its tests and its fuzz targets: client/Makefile, which needs
# no PGXS.  These targets pass through to it.
CLIENT_FUZZ_TARGETS = fuzz/build/fuzz_jx fuzz/build/fuzz_batch fuzz/build/fuzz_readers \
	fuzz/build/fuzz_mask

# with_client = no leaves the client out of all and install: the Debian
# packaging builds the extension out of tree with pg_buildext (PGXS only)
# and the client in a step of its own (debian/rules)
with_client ?= yes

ifeq ($(with_client),yes)
all: all-client
install: install-client
endif
all-client:
	$(MAKE) -C client all

client/nsvault client/nsvault-js client/test/test_jx:
	$(MAKE) -C client $(@:client/%=%)

install-client:
	$(MAKE) -C client install

clean: clean-client
clean-client:
	$(MAKE) -C client clean
	rm -rf fuzz/build

unit-test:
	$(MAKE) -C client unit-test

check-client:
	$(MAKE) -C client check

$(CLIENT_FUZZ_TARGETS):
	$(MAKE) -C client ../$@

# libFuzzer targets: make fuzz (not part of make test) runs each for
# FUZZ_SECONDS and fails on any crash
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_TARGETS = $(CLIENT_FUZZ_TARGETS) fuzz/build/fuzz_image_ref

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
	@$(MAKE) -s $(FUZZ_TARGETS) all-client
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh $(FUZZ_TARGETS)

.PHONY: deps build-install test demo demo-stop all-client install-client clean-client unit-test \
	check-client $(CLIENT_FUZZ_TARGETS) client/nsvault client/nsvault-js client/test/test_jx \
	fuzz fuzz-deps bench package package-test deps-citus test-citus bench-citus

# Installs the system packages the build and tests need (apt, as root).
deps:
	@scripts/deps.sh

build-install: deps
	@scripts/build-install.sh

# Builds, installs and runs every test; as root, tests run as postgres.
test: build-install
	@scripts/run-tests.sh

# Starts a key cluster (TLS only) and a main cluster, and runs the demo with
# Direktiv's httpget example (scripts/demo.sh).
demo: build-install
	@scripts/demo.sh

demo-stop:
	@scripts/demo-stop.sh

# Citus, for the scale-out tests (not part of make test; nsvault never
# needs it): built once from its build tree (scripts/deps-citus.sh).
deps-citus: deps
	@scripts/deps-citus.sh

# nsvault on Citus (t/citus/, not part of make test): a key cluster, a
# coordinator and workers per scenario, on this machine.
test-citus: deps-citus build-install
	@scripts/test-citus.sh

# nsvault on Citus against a single node, in reads and writes per second
# (not part of make bench: it needs Citus).
bench-citus: deps-citus build-install
	@scripts/bench-citus.sh

# The Debian packages (debian/), built into build/packages/ (not part of
# make test; needs dpkg-dev, debhelper and postgresql-server-dev-all).
package:
	@scripts/package.sh

# Builds the packages, installs them with apt into a fresh Debian 12
# minbase root and runs the demo's steps there; then the same from 0.7.0's
# packages upgraded to these (scripts/package-test.sh; as root, slow).
package-test:
	@scripts/package-test.sh
