# reportd/: the daily report of every layer, and the status server
PROGS += reportd
REPORTD_CORE = reportd/parse.o reportd/stamp.o reportd/topn.o \
  reportd/source.o reportd/report.o reportd/html.o reportd/status.o \
  reportd/httpd.o
reportd_OBJS = reportd/reportd.o $(REPORTD_CORE)
reportd_LIBS = -lowfat -lz

UNIT_TESTS += t_reportd
t_reportd_OBJS = reportd/t_reportd.o $(REPORTD_CORE)
t_reportd_LIBS = -lowfat -lz -lz
