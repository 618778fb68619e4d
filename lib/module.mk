# lib/: code shared by two or more daemons, linked as $(B)/libimgate.a
LIB_OBJS += lib/log.o lib/settings.o lib/server.o lib/policy.o
LIB_OBJS += lib/classify.o lib/endpoint.o

UNIT_TESTS += t_lib t_classify
t_lib_OBJS = lib/t_lib.o
t_classify_OBJS = lib/t_classify.o

UNIT_TESTS += t_server
t_server_OBJS = lib/t_server.o
t_server_LIBS = -lowfat

UNIT_TESTS += t_endpoint
t_endpoint_OBJS = lib/t_endpoint.o
t_endpoint_LIBS = -lowfat
