# acctd/: recipient validation from a CDB (acctd, acctd-data)
PROGS += acctd acctd-data acctd-bench-load acctd-bench-echo
ACCTD_COMMON = acctd/addr.o acctd/db.o acctd/lookup.o acctd/proto.o
acctd_OBJS = acctd/acctd.o $(ACCTD_COMMON)
acctd_LIBS = -lowfat
acctd-data_OBJS = acctd/acctd-data.o acctd/reader.o acctd/addrset.o \
  acctd/addr.o acctd/db.o
acctd-data_LIBS = -lowfat
acctd-bench-load_OBJS = acctd/bench/load.o
acctd-bench-echo_OBJS = acctd/bench/echo.o

UNIT_TESTS += t_acctd_addr t_acctd_read t_acctd_proto t_acctd_db
t_acctd_read_OBJS = acctd/t_acctd_read.o acctd/reader.o acctd/addrset.o \
  acctd/addr.o
t_acctd_read_LIBS = -lowfat
t_acctd_addr_OBJS = acctd/t_acctd_addr.o acctd/addr.o
t_acctd_proto_OBJS = acctd/t_acctd_proto.o acctd/proto.o
t_acctd_db_OBJS = acctd/t_acctd_db.o $(ACCTD_COMMON)
t_acctd_db_LIBS = -lowfat
acctd-bench-load_LIBS = -lpthread -lowfat
acctd-bench-echo_LIBS = -lowfat
