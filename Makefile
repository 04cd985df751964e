# Makefile — nsvault: the extensions (PGXS), their tests, and the two commands.

MODULE_big = nsvault
OBJS = \
	src/nsvault.o \
	src/guc.o \
	src/validate.o \
	src/secure_mem.o \
	src/catalog.o \
	src/spi_plans.o \
	src/crypto.o \
	src/keydb.o \
	src/key_cache.o \
	src/secrets.o \
	src/registry_ref.o \
	src/registries.o

EXTENSION = nsvault nsvault_keys
DATA = nsvault--0.1.sql nsvault_keys--0.1.sql
PGFILEDESC = "nsvault - namespace-scoped encrypted secrets"

REGRESS = setup keys secrets get_secrets validation integrity privileges key_link registries image_matching
REGRESS_OPTS = --temp-instance=tmp_check_regress --temp-config=test/regress.conf
TAP_TESTS = 1

PG_CONFIG ?= pg_config
# no JIT bitcode: it needs clang, and JIT gains nothing on these small functions
override with_llvm = no
PG_CPPFLAGS = -I$(srcdir)/src
PG_CFLAGS = -Wall -Wmissing-prototypes -Werror=implicit-function-declaration

PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
else
all:
	@echo "PostgreSQL's build files (PGXS) are missing: run 'make deps' first." >&2; exit 1
endif

.PHONY: deps build-install test demo demo-stop

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
