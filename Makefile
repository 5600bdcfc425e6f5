# SPDX-License-Identifier: GPL-2.0
#
# zcsend: the user-facing wrapper around Kbuild (which stands alone).
#
#   make                  module for the running kernel (KVER/KDIR to pick
#                         another), the zcsend tool, its benchmark
#                         (zcsend-bench) and the selftests
#   make module KVER=R    module for kernel release R, into build/R/
#   make modules          module for every kernel scripts/setup cached
#                         (6.1, 6.12 and the 6.12 debug kernel)
#   make check            the test suite (README): setup, builds with W=1,
#                         checkpatch, sparse, host tests, selftests in VMs
#                         of 6.1, 6.12 and the 6.12 debug kernel (KASAN,
#                         lockdep, kmemleak, coverage; built once)
#   make check-quick      the same without the debug kernel
#   make bench            the benchmark in a VM (see README); FULL=1 for
#                         every route and size (scripts/benchmark/bench --full)
#   make style / sparse   checkpatch --strict / sparse on their own
#   make clean            everything built, for every kernel
#
# Each kernel release builds in its own build/RELEASE/ (a tree of symlinks
# to the sources), so builds for several kernels never clobber each other.

TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
# Caches live outside the checkout, so fresh clones (and CI) reuse them.
CACHE := $(or $(ZCSEND_CACHE),/var/cache/zcsend)
KVER ?= $(shell uname -r)
# A kernel scripts/setup cached rather than installed (the 6.12 debug kernel
# that scripts/testbed/build-debug-kernel builds) has its build tree in the cache.
KDIR ?= $(or $(wildcard $(CACHE)/kernels/$(KVER)/lib/modules/$(KVER)/build), \
	/lib/modules/$(KVER)/build)
# The release the tree in KDIR builds for (its UTS_RELEASE, which the
# module's vermagic carries), so that KDIR alone also names the output.
KREL = $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' \
	$(KDIR)/include/generated/utsrelease.h 2>/dev/null || echo $(KVER))
BUILD = $(TOP)/build/$(KREL)
KSRC := $(CACHE)/linux-source-6.1
CACHED_RELEASES = $(foreach s,6.1 6.12 6.12-debug,$(shell cat $(CACHE)/kernels/$(s) 2>/dev/null))

MODULE_SRCS := Kbuild dkms.conf $(wildcard module/*.c module/*.h)

all: module-if-headers userspace selftests

# "make" on a machine without headers for its own kernel (such as the
# build machines, whose kernel has no module support) still builds the
# rest, and says so. "make module" insists.
module-if-headers:
	@if [ -d "$(KDIR)" ]; then \
		$(MAKE) --no-print-directory module; \
	else \
		echo "make: no kernel headers in $(KDIR): module not built" \
			"(use KVER=RELEASE, or make check)" >&2; \
	fi

module:
	@test -d "$(KDIR)" || { echo "make: no kernel headers in $(KDIR)" >&2; exit 1; }
	@rm -rf $(BUILD)/module $(BUILD)/Kbuild $(BUILD)/dkms.conf $(BUILD)/uapi
	@mkdir -p $(BUILD)/module
	@for f in $(MODULE_SRCS); do ln -s $(TOP)/$$f $(BUILD)/$$f; done
	@ln -s $(TOP)/uapi $(BUILD)/uapi
	$(MAKE) -C $(KDIR) M=$(BUILD) $(if $(W),W=$(W)) $(if $(C),C=$(C)) modules

modules:
	@test -n "$(CACHED_RELEASES)" || { echo "make: no cached kernels: run scripts/setup" >&2; exit 1; }
	@set -e; for r in $(CACHED_RELEASES); do \
		$(MAKE) --no-print-directory module KVER=$$r; \
	done

userspace:
	$(MAKE) -C userspace

selftests:
	$(MAKE) -C selftests

check:
	$(TOP)/scripts/check

check-quick:
	ZCSEND_KERNELS="6.1 6.12" $(TOP)/scripts/check

bench:
	$(TOP)/scripts/benchmark/bench $(if $(FULL),--full)

style:
	$(KSRC)/scripts/checkpatch.pl --strict --no-tree --show-types \
		-f $(wildcard module/*.c module/*.h uapi/linux/*.h)

sparse:
	$(MAKE) module C=2

clean:
	rm -rf $(TOP)/build
	$(MAKE) -C userspace clean
	$(MAKE) -C selftests clean

# DKMS from a checkout (README, "Lab machines"): the module's sources go to
# /usr/src/zcsend-VERSION, then dkms add, build and install for KVER (the
# running kernel unless given). dkms-install first undoes an earlier one.
DKMS_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' $(TOP)/dkms.conf)
DKMS_SRC := /usr/src/zcsend-$(DKMS_VERSION)

dkms-install: dkms-uninstall
	install -D -m 0644 -t $(DKMS_SRC) $(TOP)/Kbuild $(TOP)/dkms.conf
	install -D -m 0644 -t $(DKMS_SRC)/module $(wildcard $(TOP)/module/*.[ch])
	install -D -m 0644 -t $(DKMS_SRC)/uapi/linux $(wildcard $(TOP)/uapi/linux/*.h)
	dkms add -m zcsend -v $(DKMS_VERSION)
	dkms install -m zcsend -v $(DKMS_VERSION) -k $(KVER)

dkms-uninstall:
	@if [ -n "$$(dkms status -m zcsend -v $(DKMS_VERSION))" ]; then \
		echo "dkms remove -m zcsend -v $(DKMS_VERSION) --all"; \
		dkms remove -m zcsend -v $(DKMS_VERSION) --all; \
	fi
	rm -rf $(DKMS_SRC)

.PHONY: dkms-install dkms-uninstall

.PHONY: all module-if-headers module modules userspace selftests check check-quick bench \
	style sparse clean
