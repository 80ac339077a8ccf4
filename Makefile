# heapster-c build.
#
#   make            build every binary into build/ (-Wall -Wextra -Werror)
#   make SAN=1      the same with AddressSanitizer + UBSan, into build/san/
#   make deps       install build and test dependencies (Debian, apt-get)
#   make test       unit tests (sanitized) + integration and crash tests
#   make run        simulator + pipeline on 127.0.0.1:8082, state in ./run/
#   make bench      the pipeline against a large simulated cluster
#
# Layout: common/ and storage/ build into one static library (position
# independent, since the Kore API application links it into a .so); each
# process directory builds one binary.

CC      ?= gcc
SAN     ?= 0
ifeq ($(SAN),1)
B       := build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT     := -O1
else
B       := build
SANFLAGS :=
OPT     := -O2
endif

KORE_FEATURES := $(shell cat /usr/share/kore/features 2>/dev/null)
WARN    := -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers -Wno-format-truncation
CFLAGS  := -std=gnu11 $(OPT) -g $(WARN) -fPIC -D_GNU_SOURCE -Icommon -Istorage $(SANFLAGS) $(EXTRA_CFLAGS)
LDFLAGS := $(SANFLAGS)
LIBS    := -llmdb -lmsgpackc -lrt -lm

LIB_SRC := $(wildcard common/*.c storage/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(B)/obj/%.o)

SCRAPER_SRC   := $(wildcard scraper/*.c)
PROCESSOR_SRC := $(wildcard processor/*.c)
EXPORTER_SRC  := $(wildcard exporter/*.c)
LAUNCHER_SRC  := $(wildcard launcher/*.c)
API_SRC       := $(wildcard apiserver/*.c)
SIM_SRC       := $(wildcard tests/sim/*.c)
UNIT_SRC      := $(wildcard tests/unit/test_*.c)

BINS := $(B)/heapster $(B)/heapster-scraper $(B)/heapster-processor \
        $(B)/heapster-exporter $(B)/heapster-sim
API_SO := $(B)/heapster-api.so
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

.PHONY: all deps test run stop bench clean
all: $(BINS) $(API_SO) $(B)/heapster-api.conf.in $(B)/heapster-kore $(UNIT_BINS) $(B)/hc-load

# Our own kore (Debian's cannot serve TLS under OpenSSL 3): a copy of the
# sources Debian ships in /usr/share/kore, patched (apiserver/kore/), built
# in build/kore/ with Debian's options (pgsql, tasks) and checked to have
# the features heapster-api.so is compiled with.  Never sanitized; about
# 10 s, once.
KORE_SHARE := /usr/share/kore
KORE_PATCH := apiserver/kore/kore-4.1-tls.patch
build/kore/kore: $(KORE_PATCH) $(wildcard $(KORE_SHARE)/features $(KORE_SHARE)/src/*.c $(KORE_SHARE)/include/kore/*.h)
	@test -f $(KORE_SHARE)/Makefile || { echo "$(KORE_SHARE) missing: make deps (package kore)"; exit 1; }
	rm -rf build/kore
	@mkdir -p build
	cp -R $(KORE_SHARE) build/kore
	patch -s -p1 -d build/kore < $(KORE_PATCH)
	@mkdir -p build/kore/obj   # before Kore's parallel compiles need it
	$(MAKE) -C build/kore kore PGSQL=1 TASKS=1 PREFIX=/usr >build/kore/build.log 2>&1 || { tail -20 build/kore/build.log; exit 1; }
	@cmp -s build/kore/kore.features $(KORE_SHARE)/features || { \
	    echo "build/kore: features '$$(cat build/kore/kore.features)' differ from $(KORE_SHARE)/features"; exit 1; }

$(B)/heapster-kore: build/kore/kore
	@mkdir -p $(dir $@)
	cp $< $@

$(B)/heapster-api.conf.in: apiserver/heapster-api.conf.in
	@mkdir -p $(dir $@)
	cp $< $@

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/libhc.a: $(LIB_OBJ)
	ar rcs $@ $^

$(B)/heapster-scraper: $(SCRAPER_SRC:%.c=$(B)/obj/%.o) $(B)/libhc.a
	$(CC) $(LDFLAGS) -o $@ $^ -lcurl $(LIBS)

$(B)/heapster-processor: $(PROCESSOR_SRC:%.c=$(B)/obj/%.o) $(B)/libhc.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

EXPORTER_LIBS := -lcurl -lsnappy -lrdkafka

$(B)/heapster-exporter: $(EXPORTER_SRC:%.c=$(B)/obj/%.o) $(B)/libhc.a
	$(CC) $(LDFLAGS) -o $@ $^ $(EXPORTER_LIBS) $(LIBS)

$(B)/heapster: $(LAUNCHER_SRC:%.c=$(B)/obj/%.o) $(B)/libhc.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# The simulator is self-contained (no common/ code): its own flags.
$(B)/heapster-sim: $(SIM_SRC) $(wildcard tests/sim/*.h)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(OPT) -g -Wall -Wextra -Werror $(SANFLAGS) -o $@ $(SIM_SRC) -lssl -lcrypto -lm

# The constant-rate load generator of make bench: one file, libc and libm.
$(B)/hc-load: tests/load/hc-load.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) -lm

# The Kore application: its objects need Kore's feature flags, which change
# struct http_request; it is never built with sanitizers (kore itself is not).
$(B)/obj/apiserver/%.o: apiserver/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(KORE_FEATURES) -MMD -MP -c $< -o $@

ifeq ($(SAN),1)
# kore is not sanitized, so neither is the application it loads
$(API_SO): $(API_SRC) $(LIB_SRC)
	$(MAKE) SAN=0 build/heapster-api.so
	@mkdir -p $(dir $@)
	cp build/heapster-api.so $@
else
$(API_SO): $(API_SRC:%.c=$(B)/obj/%.o) $(B)/libhc.a
	$(CC) -shared -o $@ $^ $(LIBS)
endif

# Each process directory also builds an archive of its objects minus main.o,
# so a unit test links only the members it uses.
define module_archive
$(B)/lib$(1).a: $(filter-out $(B)/obj/$(1)/main.o,$(patsubst %.c,$(B)/obj/%.o,$(wildcard $(1)/*.c)))
	ar rcs $$@ $$^
endef
$(foreach m,scraper processor exporter,$(eval $(call module_archive,$(m))))

# The API server's pure functions (no Kore) are unit-tested too.
$(B)/libapiutil.a: $(B)/obj/apiserver/api_util.o
	ar rcs $@ $^

# Helpers shared by unit tests (fixtures, fake servers): tests/unit/util_*.c.
TESTUTIL_SRC := $(wildcard tests/unit/util_*.c)
$(B)/obj/tests/unit/util_%.o: tests/unit/util_%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iscraper -Iprocessor -Iexporter -Iapiserver -Itests/unit -MMD -MP -c $< -o $@
$(B)/libtestutil.a: $(TESTUTIL_SRC:%.c=$(B)/obj/%.o)
	ar rcs $@ $^

UNIT_LIBS := $(B)/libtestutil.a $(B)/libscraper.a $(B)/libprocessor.a $(B)/libexporter.a $(B)/libapiutil.a $(B)/libhc.a

$(B)/tests/%: tests/unit/%.c $(UNIT_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iscraper -Iprocessor -Iexporter -Iapiserver -Itests/unit -o $@ $< \
	    $(UNIT_LIBS) \
	    $(LDFLAGS) -lcmocka $(EXPORTER_LIBS) -lssl -lcrypto $(LIBS)

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)

deps:
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	    build-essential pkg-config ca-certificates curl python3 \
	    kore libpq-dev liblmdb-dev lmdb-utils libmsgpack-dev libcurl4-openssl-dev \
	    libcmocka-dev libssl-dev libsnappy-dev librdkafka-dev \
	    influxdb victoria-metrics kcat prometheus wrk procps openssl

test:
	bash tests/run.sh

run: all
	bash tests/run-demo.sh $(if $(SIM_NODES),--nodes $(SIM_NODES)) $(if $(SIM_PODS),--pods $(SIM_PODS)) -- $(ARGS)

stop:
	bash tests/stop-demo.sh

bench: all
	python3 tests/bench.py

clean:
	rm -rf build
