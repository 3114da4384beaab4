# Identity gateway.
#
#   make            build the nginx module and the workers
#   make run        the whole stack on 127.0.0.1:8080 (state in .run/)
#   make test       unit tests + t/ suites against a throw-away stack
#   make unit       the C unit tests only (workers and module)
#   make SAN=1 test the same with AddressSanitizer + UBSan, nginx included
#   make bench      gateway benchmarks (bench/)
#   make fuzz       the libFuzzer targets (fuzz/), FUZZ_SECONDS each

SHELL     := /bin/bash
SAN       ?= 0
FUZZ_SECONDS ?= 60
BUILD     ?= $(if $(filter 1,$(SAN)),build-san,build)

SAN_CC    := -fsanitize=address,undefined -fno-omit-frame-pointer
MODULE_SO := $(BUILD)/module/ngx_http_identity_module.so

# SAN=1 builds nginx itself, from Debian's nginx source fetched into
# $(BUILD)/nginx-src, with the module in the same tree; scripts/stack.sh and
# scripts/test.sh then run $(BUILD)/module/nginx instead of /usr/sbin/nginx.
SAN_NGINX_SRC := $(BUILD)/nginx-src/tree
ifeq ($(SAN),1)
NGINX_SRC  ?= $(SAN_NGINX_SRC)
MODULE_OPT := --san
MODULE_PRE := $(if $(filter $(SAN_NGINX_SRC),$(NGINX_SRC)),nginx-src)
else
NGINX_SRC  ?= /usr/share/nginx/src
endif

export BUILD SAN

.PHONY: all build deps nginx-src module workers module-tests unit test run \
        bench fuzz fmt lint clean

# The module's unit tests, against the module's configured nginx tree and
# nginx's own sources of the same version (scripts/nginx-sources.sh).
MODULE_TESTS = src=$$(scripts/nginx-sources.sh $(BUILD)/module/nginx-tree \
                                               $(BUILD)/nginx-src) \
    && $(MAKE) -s -C ngx_identity_module/tests \
       BUILD=$(abspath $(BUILD))/module/tests \
       NGX_TREE=$(abspath $(BUILD))/module/nginx-tree NGX_SRC=$$src \
       SAN_CC="$(if $(filter 1,$(SAN)),$(SAN_CC))"

all: build

build: module workers

deps:
	@scripts/deps.sh

nginx-src:
	@scripts/nginx-source.sh $(BUILD)/nginx-src

module: $(MODULE_PRE)
	@scripts/build-module.sh $(MODULE_OPT) $(NGINX_SRC) $(BUILD)/module

workers:
	@$(MAKE) -s -C workers BUILD=$(abspath $(BUILD))/workers SAN=$(SAN)

module-tests: module
	@$(MODULE_TESTS)

unit: workers module
	@$(MAKE) -s -C workers BUILD=$(abspath $(BUILD))/workers SAN=$(SAN) check
	@$(MODULE_TESTS) check

test: deps build module-tests
	@scripts/test.sh

run: deps build
	@scripts/run.sh

bench: deps build
	@bench/run.sh

# the module's token path and its Sec-WebSocket-Protocol token source
# against the same nginx tree and sources as its unit tests, the workers'
# request bodies and problem+json (fuzz/Makefile)
fuzz: deps module
	@src=$$(scripts/nginx-sources.sh $(BUILD)/module/nginx-tree \
	                                 $(BUILD)/nginx-src) \
	    && $(MAKE) -s -C fuzz BUILD=$(abspath $(BUILD))/fuzz \
	       NGX_TREE=$(abspath $(BUILD))/module/nginx-tree NGX_SRC=$$src \
	       FUZZ_SECONDS=$(FUZZ_SECONDS) run

fmt:
	clang-format -i $$(find workers -name '*.[ch]') fuzz/fuzz_request.c \
	    fuzz/fuzz_problem.c

lint:
	@scripts/lint.sh

clean:
	rm -rf build build-san
