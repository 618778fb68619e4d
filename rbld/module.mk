# rbld/: the DNSBL server (rbldnsd's data and command line) and
# rbld-harvest (private lists from the suite's own logs).
RBLD_CORE = rbld/util.o rbld/load.o rbld/sort.o rbld/ptab.o rbld/reply.o \
  rbld/zone.o rbld/ds_ip4set.o rbld/ds_ip4tset.o rbld/ds_dnset.o \
  rbld/ds_ip4trie.o rbld/ds_ip6trie.o rbld/ds_ip6tset.o rbld/ds_generic.o \
  rbld/ds_combined.o rbld/ds_acl.o

PROGS += rbld
rbld_OBJS = rbld/rbld.o $(RBLD_CORE)
rbld_LIBS = -lz -lpthread

UNIT_TESTS += t_rbld
t_rbld_OBJS = rbld/t_rbld.o $(RBLD_CORE)
t_rbld_LIBS = -lz -lpthread

# the same tests on the portable code, as a machine without SSE2 runs it
RBLD_PLAIN = $(patsubst rbld/%,rbld-plain/%,rbld/t_rbld.o $(RBLD_CORE))
$(B)/obj/rbld-plain/%.o: rbld/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -DRBLD_NO_SSE2 -c -o $@ $<
UNIT_TESTS += t_rbld_plain
t_rbld_plain_OBJS = $(RBLD_PLAIN)
t_rbld_plain_LIBS = -lz -lpthread

PROGS += rbld-harvest
rbld-harvest_OBJS = rbld/rbld-harvest.o
