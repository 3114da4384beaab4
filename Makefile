# Identity gateway.
#
#   make            build the nginx module and the workers
#   make run        the whole stack on 127.0.0.1:8080 (state in .run/)
#   make test       unit tests + t/ suites against a throw-away stack
#   make unit       the C unit tests only (workers and module)
#   make SAN=1 test the same with AddressSanitizer + UBSan
#   make bench      gateway benchmarks (bench/)

SHELL     := /bin/bash
NGINX_SRC ?= /usr/share/nginx/src
SAN       ?= 0
BUILD     ?= $(if $(filter 1,$(SAN)),build-san,build)

SAN_CC    := -fsanitize=address,undefined -fno-omit-frame-pointer
MODULE_SO := $(BUILD)/module/ngx_http_identity_module.so

export BUILD

.PHONY: all build deps module workers module-tests unit test run bench fmt \
        lint clean

# The module's unit tests, against the module's configured nginx tree and
# nginx's own sources of the same version (scripts/nginx-sources.sh).
MODULE_TESTS = src=$$(scripts/nginx-sources.sh $(BUILD)/module/nginx-tree \
                                               $(BUILD)/nginx-source) \
    && $(MAKE) -s -C ngx_identity_module/tests \
       BUILD=$(abspath $(BUILD))/module/tests \
       NGX_TREE=$(abspath $(BUILD))/module/nginx-tree NGX_SRC=$$src \
       SAN_CC="$(if $(filter 1,$(SAN)),$(SAN_CC))"

all: build

build: module workers

deps:
	@scripts/deps.sh

module:
	@scripts/build-module.sh $(NGINX_SRC) $(BUILD)/module

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

bench: deps module
	@bench/run.sh

fmt:
	clang-format -i $$(find workers -name '*.[ch]')

lint:
	@scripts/lint.sh

clean:
	rm -rf build build-san
