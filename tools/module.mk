# tools/: programs for the demo and the tests, not installed
PROGS += trafgen
trafgen_OBJS = tools/trafgen.o
