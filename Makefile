# imgate: plain GNU make.  Each folder with code has a module.mk that
# lists its programs, objects and unit tests; this file holds the rules.
#
#   make            build everything into $(B)/ (default build/)
#   make check      build, then run every unit test and end-to-end test
#   make asan       the same build and tests with ASan and UBSan (build-asan/)
#   make bench      benchmarks beside the peers named in the issues
#   make demo       the whole gateway on loopback with real traffic
#   make install    see package/install

B ?= build
CC ?= cc
CFLAGS ?= -O2 -g
WARN = -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes \
       -Werror=implicit-function-declaration
# Warnings are errors in CI (CI=true) and whenever WERROR=1 is given.
ifneq ($(filter true 1,$(CI) $(WERROR)),)
WARN += -Werror
endif
CPPFLAGS += -I. -Ilib -D_GNU_SOURCE -MMD -MP
ALL_CFLAGS = $(WARN) $(CFLAGS) $(EXTRA_CFLAGS)

PROGS :=
UNIT_TESTS :=
LIB_OBJS :=

include lib/module.mk
include $(sort $(filter-out lib/module.mk,$(wildcard */module.mk)))

# Objects go under $(B)/obj/: a program named like its folder (acctd,
# greyd ...) lands in $(B)/ and would clash with $(B)/acctd/*.o.
O = $(B)/obj

# $(call link,NAME): $(B)/NAME from $(NAME_OBJS), libimgate and $(NAME_LIBS)
define link
$(B)/$(1): $$(addprefix $(O)/,$$($(1)_OBJS)) $(B)/libimgate.a
	$$(CC) $$(ALL_CFLAGS) $$(LDFLAGS) -o $$@ \
	  $$(addprefix $(O)/,$$($(1)_OBJS)) $(B)/libimgate.a $$($(1)_LIBS) $$(LDLIBS)
endef

all: $(addprefix $(B)/,$(PROGS) $(UNIT_TESTS))

$(foreach p,$(PROGS) $(UNIT_TESTS),$(eval $(call link,$(p))))

$(B)/libimgate.a: $(addprefix $(O)/,$(LIB_OBJS))
	rm -f $@
	$(AR) rcs $@ $^

$(O)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

check: all
	tests/run $(B)

# One folder's tests only, e.g. make check-acctd
check-%: all
	tests/run $(B) $*

SAN = -fsanitize=address,undefined -fno-omit-frame-pointer \
      -fno-sanitize-recover=undefined
# ASan reserves terabytes of address space: the services' softlimit
# would kill it at start, so the run scripts are told to lift it.
asan:
	SOFTLIMIT== $(MAKE) B=build-asan EXTRA_CFLAGS="$(SAN)" LDFLAGS="$(SAN)" \
	  check

bench: all
	bench/run $(B)

demo: all
	package/deps
	tests/demo/run $(B)

deps:
	package/deps

install: all
	package/install $(B)

clean:
	rm -rf build build-asan

.PHONY: all check asan bench demo deps install clean
.DELETE_ON_ERROR:

-include $(shell find $(B) -name '*.d' 2>/dev/null)
