# policyd/: envelope policy rules with PTR/HELO conditions and DNS lists
PROGS += policyd
policyd_OBJS = policyd/policyd.o policyd/rules.o policyd/dns.o \
  policyd/breaker.o
policyd_LIBS = -lcares -lowfat

UNIT_TESTS += t_policyd
t_policyd_OBJS = policyd/t_policyd.o policyd/rules.o policyd/dns.o \
  policyd/breaker.o
t_policyd_LIBS = -lcares -lowfat

# the benchmark's load generator (bench/policyd)
PROGS += policyd-load
policyd-load_OBJS = policyd/policyd-load.o
policyd-load_LIBS = -lowfat
