# greyd/: selective greylisting policy server, and greyd-dump
PROGS += greyd greyd-dump greyd-load
GREYD_CORE = greyd/normalise.o greyd/decide.o greyd/wlist.o greyd/store.o \
  greyd/store_lmdb.o greyd/store_pg.o
greyd_OBJS = greyd/greyd.o $(GREYD_CORE)
greyd_LIBS = -llmdb -lpq -lowfat -lpthread
greyd-dump_OBJS = greyd/greyd-dump.o $(GREYD_CORE)
greyd-dump_LIBS = -llmdb -lpq -lowfat -lpthread
# the benchmark's and tests' load generator (not installed)
greyd-load_OBJS = greyd/greyd-load.o
greyd-load_LIBS = -lowfat

UNIT_TESTS += t_greyd
t_greyd_OBJS = greyd/t_greyd.o $(GREYD_CORE)
t_greyd_LIBS = -llmdb -lpq -lowfat -lpthread

$(B)/obj/greyd/store_pg.o: CPPFLAGS += -I/usr/include/postgresql
