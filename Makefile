# SPDX-License-Identifier: GPL-2.0-only
#
# iommufd-viommu: iommufd with vIOMMU support for Debian's Linux 6.12, as
# out-of-tree modules, plus a mock SMMU driver and kselftests run in a VM.
#
#   make test     build everything, boot Debian's 6.12 kernel in QEMU, run the
#                 kselftests; last line "N passed, N failed"
#   make run      same set-up, then run the VMM-flow demo in the VM
#   make check    sparse, checkpatch --strict, coccinelle, kernel-doc
#   make vm-exec PROG=<static program> [ARGS="..."] [FILES="<path> ..."]
#                 [PSMMUS=N] [MOCK_PARAMS="k=v ..."] [IOMMUFD_PARAMS="k=v ..."]
#                 run your own program in the VM, with its exit status
#   make shell    the same VM with an interactive shell (poweroff/Ctrl-D)
#   make bench    the dispatcher's benchmark, production allocator, one VM
#                 boot per pSMMU count [BENCH_PSMMUS="1 2 4 8"]
#                 [BENCH_ARGS="-r 9 -t 10"]; build/bench/{report.txt,bench.csv}
#   make bench-profile  one bench boot under perf (cpu-clock sampling in
#                 the VM), report by symbol [PROFILE_ARGS="-w 1"]
#                 [PROFILE_PSMMUS=1]; build/bench/profile.txt
#   make test-debug  the kselftests on a debug kernel built from the same
#                 source (KASAN, kmemleak, lockdep, ...); built once
#   make test-upstream  upstream's own selftests (6.12's, 7.3's vIOMMU
#                 fixture), unmodified, against a test build of iommufd.ko
#                 [UPSTREAM_PARTS="stock debug"]
#   make test-intel-iommu  real DMA: QEMU's edu device behind QEMU's
#                 intel-iommu (q35, no mock), through its VFIO cdev and
#                 iommufd (iommufd_vfio_dma)
#   make test-qemu  Debian's QEMU 10.0 (bookworm-backports, fetched, never
#                 installed) run in the VM as a client of iommufd: -object
#                 iommufd + vfio-pci pass an edu device to a nested guest,
#                 which DMAs through it [QEMU_EMULATED=1: the control, an
#                 emulated edu in the nested guest, no passthrough]
#
# Everything downloaded, unpacked and built is cached under build/.

TOP := $(CURDIR)
BUILD := $(TOP)/build
export BUILD

# build/env.mk is written by scripts/deps.sh (kernel version, paths).
-include $(BUILD)/env.mk

KMOD := $(BUILD)/kmod
IOMMUFD_DIR := $(KMOD)/drivers/iommu/iommufd
MOCK_DIR := $(KMOD)/drivers/iommu/mock-smmu
VFIO_DIR := $(KMOD)/drivers/vfio
VFIO_KOS := vfio.ko vfio_iommu_type1.ko pci/vfio-pci-core.ko pci/vfio-pci.ko
# Modules of Debian's image (scripts/deps.sh; an env.mk older than it has
# no IMAGE_MODULES, but deps.sh has run by the time they are copied)
IMAGE_MODULES ?= $(dir $(VMLINUZ))modules
MODULES_OUT := $(BUILD)/modules
INSTALL_HDR_PATH ?= $(BUILD)/usr
SELFTEST_SRC := $(TOP)/tools/testing/selftests/iommu
SELFTEST_OUT := $(BUILD)/selftests
KSRC := $(BUILD)/linux-6.12

VMRUN := $(TOP)/tools/testing/vm/vmrun.sh
# VM_WORK: vmrun.sh's --work (default build/vm)
VM_WORK ?=
# VM_QEMU_ARGS: more QEMU arguments, split at blanks (e.g. "-device edu")
VM_QEMU_ARGS ?=
VM_ARGS = --kernel $(VMLINUZ) --modules $(MODULES_OUT) --bin-dir $(SELFTEST_OUT) \
	$(if $(VM_WORK),--work $(VM_WORK)) \
	$(foreach a,$(VM_QEMU_ARGS),--qemu-arg $(a))
VM_TIMEOUT ?= 1500
PSMMUS ?=
VM_MOCK_PARAMS = $(if $(PSMMUS),--mock-param num_psmmus=$(PSMMUS))
# make test, vm-exec and shell: two of QEMU's edu PCI devices (1234:11e8),
# given to pSMMU 0 and 1 by the mock's pci= parameter, for
# iommufd_vfio_vmm and a VMM's own tests (VFIO device cdevs).
# Empty VM_PCI_ARGS: no edu devices, and that test skips.
VM_PCI_ARGS ?= -device edu,addr=1e.0 -device edu,addr=1f.0
VM_PCI_MOCK_PARAM ?= pci=1234:11e8@0,1234:11e8@1
VM_PCI = $(foreach a,$(VM_PCI_ARGS),--qemu-arg $(a)) \
	$(if $(VM_PCI_ARGS),--mock-param $(VM_PCI_MOCK_PARAM))
# vm-exec and shell: more module parameters, and what to copy in. ARGS is
# read from the environment (make puts command-line variables there), so
# that its quotes reach vmrun.sh intact.
MOCK_PARAMS ?=
IOMMUFD_PARAMS ?=
VM_MORE_PARAMS = $(foreach p,$(MOCK_PARAMS),--mock-param $(p)) \
	$(foreach p,$(IOMMUFD_PARAMS),--iommufd-param $(p))
VM_PROG_ARGS = $(if $(PROG),--prog "$(PROG)") $(if $(FILES),--files "$(FILES)")

# Checked before anything is built
ifneq ($(filter vm-exec,$(MAKECMDGOALS)),)
ifeq ($(strip $(PROG)),)
$(error make vm-exec needs PROG=<statically linked program>, e.g. make vm-exec PROG=./a.out ARGS="-v")
endif
$(foreach f,$(PROG) $(FILES),$(if $(wildcard $(f)),,$(error vm-exec: '$(f)' not found)))
endif

KBUILD_ARGS = -C $(KDIR) IOMMUFD_VIOMMU_TOP=$(TOP)
Q := @

.PHONY: all deps src modules headers_install selftests test run check \
	vm-exec shell bench bench-profile clean distclean help debug-kernel debug-modules \
	test-debug test-debug-controls test-upstream test-intel-iommu \
	test-qemu

all: modules selftests

help:
	@sed -n '3,35p' Makefile | sed 's/^# \{0,1\}//'

deps:
	$(Q)$(TOP)/scripts/deps.sh

src: deps
	$(Q)KSRC_TAR=$(KSRC_TAR) $(TOP)/scripts/prepare-src.sh

# Both modules are built with Kbuild against Debian's headers package, and
# Debian's own drivers/vfio with device cdevs and iommufd
# (drivers/vfio/Kbuild) against iommufd.ko. build/modules gets them all,
# with Debian's irqbypass.ko, which vfio-pci-core.ko needs, for the VM.
modules: src
	@echo "[build] iommufd.ko"
	$(Q)$(MAKE) -s $(KBUILD_ARGS) M=$(IOMMUFD_DIR) modules
	@echo "[build] mock_smmu.ko"
	$(Q)$(MAKE) -s $(KBUILD_ARGS) M=$(MOCK_DIR) \
		KBUILD_EXTRA_SYMBOLS=$(IOMMUFD_DIR)/Module.symvers modules
	@echo "[build] vfio.ko, vfio_iommu_type1.ko, vfio-pci-core.ko, vfio-pci.ko (device cdevs)"
	$(Q)$(MAKE) -s $(KBUILD_ARGS) M=$(VFIO_DIR) \
		KBUILD_EXTRA_SYMBOLS=$(IOMMUFD_DIR)/Module.symvers modules
	$(Q)mkdir -p $(MODULES_OUT)
	$(Q)cp $(IOMMUFD_DIR)/iommufd.ko $(MOCK_DIR)/mock_smmu.ko \
		$(addprefix $(VFIO_DIR)/,$(VFIO_KOS)) \
		$(IMAGE_MODULES)/irqbypass.ko $(MODULES_OUT)/

# The uAPI a VMM compiles against: the 6.12 header with this project's
# additions (patches/uapi/), installed like the kernel's headers_install,
# and 6.12's linux/vfio.h (the device cdev ioctls), unmodified.
headers_install: src
	$(Q)mkdir -p $(INSTALL_HDR_PATH)/include/linux
	$(Q)install -m 0644 $(KMOD)/include/uapi/linux/iommufd.h \
		$(INSTALL_HDR_PATH)/include/linux/iommufd.h
	$(Q)cd $(KDIR) && scripts/headers_install.sh \
		$(KSRC)/include/uapi/linux/vfio.h \
		$(INSTALL_HDR_PATH)/include/linux/vfio.h
	@echo "[hdr] installed linux/iommufd.h and linux/vfio.h under $(INSTALL_HDR_PATH)/include"

selftests: headers_install
	@echo "[build] kselftests"
	$(Q)$(MAKE) -s -C $(SELFTEST_SRC) OUTPUT=$(SELFTEST_OUT) \
		KSFT_DIR=$(KSRC)/tools/testing/selftests \
		UAPI_INCLUDE=$(INSTALL_HDR_PATH)/include
	$(Q)$(MAKE) -s -C $(TOP)/samples/iommufd OUTPUT=$(SELFTEST_OUT) \
		UAPI_INCLUDE=$(INSTALL_HDR_PATH)/include MOCK_INCLUDE=$(TOP)/drivers/iommu/mock-smmu

test: modules selftests
	$(Q)$(VMRUN) $(VM_ARGS) $(VM_MOCK_PARAMS) $(VM_PCI) --timeout $(VM_TIMEOUT) \
		--tests "$$(cat $(SELFTEST_OUT)/TESTS)" test

run: modules selftests
	$(Q)$(VMRUN) $(VM_ARGS) $(VM_MOCK_PARAMS) --timeout $(VM_TIMEOUT) \
		--run vmm-demo run

# The test binaries are copied in when they were built (make selftests),
# but vm-exec does not build them.
vm-exec: modules
	$(Q)$(VMRUN) $(VM_ARGS) $(VM_MOCK_PARAMS) $(VM_PCI) $(VM_MORE_PARAMS) \
		--timeout $(VM_TIMEOUT) $(VM_PROG_ARGS) --args "$$ARGS" exec

shell: modules selftests
	$(Q)$(VMRUN) $(VM_ARGS) $(VM_MOCK_PARAMS) $(VM_PCI) $(VM_MORE_PARAMS) \
		$(VM_PROG_ARGS) shell

# Not a test: figures are same-boot ratios, never judged; it fails only if
# a run does not complete cleanly.
# W3/W4 (thousands of devices) need more guest memory than the tests.
BENCH_PSMMUS ?= 1 2 4 8
BENCH_ARGS ?=
BENCH_MEMORY ?= 2048
bench: modules selftests
	$(Q)$(TOP)/tools/testing/vm/bench.sh --prog $(SELFTEST_OUT)/iommufd_vsmmu_perf \
		--out $(BUILD)/bench --psmmus "$(BENCH_PSMMUS)" --args "$(BENCH_ARGS)" \
		-- $(VM_ARGS) $(VM_MORE_PARAMS) --memory $(BENCH_MEMORY) \
		--timeout $(VM_TIMEOUT)

# make bench-profile: where the benchmark's time goes, by kernel symbol
PROFILE_ARGS ?= -w 1
PROFILE_PSMMUS ?= 1
PERF_RUN := $(BUILD)/vm-tools/perf-run
$(PERF_RUN): $(TOP)/tools/testing/vm/perf-run.c
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) -static -O2 -Wall -Werror -o $@ $<
bench-profile: modules selftests $(PERF_RUN)
	$(Q)mkdir -p $(BUILD)/bench
	$(Q)$(TOP)/tools/testing/vm/bench-profile.sh \
		--prog $(SELFTEST_OUT)/iommufd_vsmmu_perf --wrapper $(PERF_RUN) \
		--out $(BUILD)/bench/profile.txt --psmmus "$(PROFILE_PSMMUS)" \
		--args "$(PROFILE_ARGS)" \
		-- $(VM_ARGS) $(VM_MORE_PARAMS) --memory $(BENCH_MEMORY) \
		--timeout $(VM_TIMEOUT)

check: modules
	$(Q)$(TOP)/scripts/check.sh

# ---- The debug kernel ----------------------------------------------------
#
# tinyconfig + tools/testing/vm/debug.config from the same linux-source-6.12,
# built once in build/debug-kernel (scripts/debug-kernel.sh; rebuilt when
# the fragment or the tarball changes). Both modules are built against its
# tree, from an assembled tree of their own (build/debug-kmod), and the
# whole suite runs on it with vmrun.sh --debug: kmemleak scan after the
# unload, lockdep still on at the end, every report fails the run.
DEBUG_KDIR := $(BUILD)/debug-kernel/obj
DEBUG_VMLINUZ := $(DEBUG_KDIR)/arch/x86/boot/bzImage
DEBUG_KMOD := $(BUILD)/debug-kmod
DEBUG_MODULES := $(BUILD)/debug-modules
DEBUG_TIMEOUT ?= 2400
DEBUG_MEMORY ?= 2048

debug-kernel: deps
	$(Q)KSRC_TAR=$(KSRC_TAR) $(TOP)/scripts/debug-kernel.sh

debug-modules: src debug-kernel
	$(Q)KMOD=$(DEBUG_KMOD) KSRC_TAR=$(KSRC_TAR) $(TOP)/scripts/prepare-src.sh
	@echo "[build] iommufd.ko (debug kernel)"
	$(Q)$(MAKE) -s -C $(DEBUG_KDIR) IOMMUFD_VIOMMU_TOP=$(TOP) \
		M=$(DEBUG_KMOD)/drivers/iommu/iommufd modules
	@echo "[build] mock_smmu.ko (debug kernel)"
	$(Q)$(MAKE) -s -C $(DEBUG_KDIR) IOMMUFD_VIOMMU_TOP=$(TOP) \
		M=$(DEBUG_KMOD)/drivers/iommu/mock-smmu \
		KBUILD_EXTRA_SYMBOLS=$(DEBUG_KMOD)/drivers/iommu/iommufd/Module.symvers modules
	$(Q)mkdir -p $(DEBUG_MODULES)
	$(Q)cp $(DEBUG_KMOD)/drivers/iommu/iommufd/iommufd.ko \
		$(DEBUG_KMOD)/drivers/iommu/mock-smmu/mock_smmu.ko $(DEBUG_MODULES)/

test-debug: debug-modules selftests
	$(Q)$(VMRUN) --kernel $(DEBUG_VMLINUZ) --modules $(DEBUG_MODULES) \
		--bin-dir $(SELFTEST_OUT) $(if $(VM_WORK),--work $(VM_WORK)) \
		--debug --memory $(DEBUG_MEMORY) $(VM_MOCK_PARAMS) \
		--timeout $(DEBUG_TIMEOUT) --tests "$$(cat $(SELFTEST_OUT)/TESTS)" test

# The positive controls of test-debug's judges: a leak and a lock order
# inversion the runner must fail (tools/testing/vm/tests/debug.sh)
test-debug-controls: debug-modules
	$(Q)$(TOP)/tools/testing/vm/tests/debug.sh --kernel $(DEBUG_VMLINUZ) \
		--kdir $(DEBUG_KDIR) --modules $(DEBUG_MODULES)

# ---- A real IOMMU: QEMU's intel-iommu on q35 ------------------------------
#
# The second VM configuration: a q35 machine with QEMU's emulated VT-d
# (interrupt remapping on; kernel-irqchip=split is what it needs with KVM
# and is ignored by TCG) and an edu PCI device behind it, without the mock.
# Debian's 6.12 turns VT-d on by default (INTEL_IOMMU_DEFAULT_ON_INTGPU_OFF)
# with translated DMA domains, so the kernel needs no extra parameter. The
# IOMMU comes before the device on QEMU's command line. No NIC: nothing
# else to do DMA.
#
# iommufd.ko gets allow_unsafe_interrupts=0 (after init.sh's 1): VT-d's
# interrupt remapping isolates MSIs, so binding needs no override here.
INTEL_IOMMU_QEMU_ARGS := -M q35,kernel-irqchip=split \
	-device intel-iommu,intremap=on -device edu -nic none
INTEL_IOMMU_VM_ARGS = --no-mock \
	$(foreach a,$(INTEL_IOMMU_QEMU_ARGS),--qemu-arg $(a)) \
	--iommufd-param allow_unsafe_interrupts=0
INTEL_IOMMU_TESTS ?= iommufd_vfio_dma

test-intel-iommu: modules selftests
	$(Q)$(VMRUN) $(VM_ARGS) $(INTEL_IOMMU_VM_ARGS) --timeout $(VM_TIMEOUT) \
		--tests "$(INTEL_IOMMU_TESTS)" test

# ---- Upstream's own selftests ------------------------------------------------
#
# scripts/upstream-tests.sh: a test build of iommufd.ko (6.12's selftest mock
# compiled in, patches/iommufd-test/) in build/test-kmod, upstream's test
# files compiled unmodified, results judged against
# tools/testing/selftests/iommu/upstream/expected.txt. stock: 6.12's
# iommufd.c and 7.3's iommufd_viommu fixture on Debian's kernel; debug:
# 6.12's iommufd_fail_nth.c on the debug kernel.
UPSTREAM_PARTS ?= stock debug

test-upstream: src $(if $(filter debug,$(UPSTREAM_PARTS)),debug-kernel)
	$(Q)KDIR=$(KDIR) VMLINUZ=$(VMLINUZ) KSRC_TAR=$(KSRC_TAR) \
		DEBUG_KDIR=$(DEBUG_KDIR) $(TOP)/scripts/upstream-tests.sh $(UPSTREAM_PARTS)

# ---- Debian's QEMU as an iommufd client -----------------------------------
#
# tools/testing/vm/qemu-client/test-qemu.sh: scripts/fetch-qemu.sh gathers
# qemu-system-x86 from bookworm-backports with its libraries (cached in
# build/cache), the VM runs it with the nested guest (same vmlinuz, a
# busybox initramfs with edu_dma), in the intel-iommu VM configuration
# above. Nested TCG: several minutes. QEMU_EMULATED=1 is the control that
# needs no IOMMU: the plain VM, an emulated edu in the nested guest.
QEMU_TIMEOUT ?= 2400
QEMU_EMULATED ?=
QEMU_VM_ARGS ?= $(if $(filter 1,$(QEMU_EMULATED)),,$(INTEL_IOMMU_VM_ARGS))

test-qemu: modules
	$(Q)$(TOP)/tools/testing/vm/qemu-client/test-qemu.sh --kernel $(VMLINUZ) \
		--modules $(MODULES_OUT) $(if $(VM_WORK),--work $(VM_WORK)) \
		--timeout $(QEMU_TIMEOUT) $(if $(filter 1,$(QEMU_EMULATED)),--emulated) \
		-- $(QEMU_VM_ARGS)

clean:
	$(Q)rm -rf $(KMOD) $(MODULES_OUT) $(SELFTEST_OUT) $(BUILD)/vm \
		$(DEBUG_KMOD) $(DEBUG_MODULES) $(BUILD)/test-kmod \
		$(BUILD)/test-modules $(BUILD)/test-debug-kmod \
		$(BUILD)/test-debug-modules $(BUILD)/upstream \
		$(BUILD)/qemu-client $(BUILD)/qemu-l2 $(BUILD)/qemu-bundle $(BUILD)/qemu-root

distclean:
	$(Q)rm -rf $(BUILD)

# ---- Packaging and documentation ---------------------------------------
#
#   make dkms-install     (root) register, build and install iommufd.ko
#                         with DKMS for every installed 6.12 kernel
#                         (DKMS_KERNELS="6.12.N+deb12-amd64 ..." to choose);
#                         DKMS_WITH_MOCK=1 adds the mock SMMU driver,
#                         mock_smmu.ko, as a second DKMS package
#   make dkms-uninstall   (root) remove both from DKMS again
#   make dkms-check       (root, CI) dkms build/install with and without the
#                         mock into a temporary tree, then headers_install
#                         + a compile test
#   make docs-check       kernel-doc directives of Documentation/ resolve
#   make htmldocs         Sphinx HTML of Documentation/ in build/htmldocs

DKMS_KERNELS ?=
DKMS_WITH_MOCK ?=
ifneq ($(filter-out 0 1,$(DKMS_WITH_MOCK)),)
$(error DKMS_WITH_MOCK=$(DKMS_WITH_MOCK): use DKMS_WITH_MOCK=1 for the mock SMMU driver, or leave it out)
endif

.PHONY: dkms-install dkms-uninstall dkms-check docs-check htmldocs

dkms-install:
	$(Q)$(TOP)/scripts/dkms-build.sh install \
		$(if $(filter 1,$(DKMS_WITH_MOCK)),--with-mock) $(DKMS_KERNELS)

dkms-uninstall:
	$(Q)$(TOP)/scripts/dkms-build.sh uninstall

dkms-check:
	$(Q)$(TOP)/scripts/dkms-build.sh ci $(DKMS_KERNELS)

docs-check: src
	$(Q)$(TOP)/Documentation/sphinx/docs.sh check

htmldocs: src
	$(Q)$(TOP)/Documentation/sphinx/docs.sh html

# build/env.mk (KDIR, VMLINUZ, ...) is written by scripts/deps.sh. On a
# fresh checkout it does not exist when make reads this file: make then
# creates it with this rule and starts over, so that the rules above see
# the variables. Goals that need no dependencies do not trigger it.
NO_DEPS_GOALS := help clean distclean dkms-install dkms-uninstall dkms-check
ifneq ($(filter-out $(NO_DEPS_GOALS),$(or $(MAKECMDGOALS),all)),)
$(BUILD)/env.mk:
	$(Q)$(TOP)/scripts/deps.sh
endif
