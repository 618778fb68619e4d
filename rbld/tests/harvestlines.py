# rbld/tests/harvestlines.py - policyd's and greyd's decision lines as
# rbld-harvest reads them (doc/LOGS), behind a multilog TAI64N label,
# for the harvest tests: sys.path.insert(0, "$IMGATE_TOP/rbld/tests").


def lab(t):
    """The TAI64N label of Unix time t."""
    return "@%016x%08x" % (2**62 + 10 + t, 123456)


def pol(t, ip, action="reject", rule="R"):
    """A policyd decision line for client ip."""
    return ('%s policyd: info: decision action=%s rule=%s client=%s helo=h '
            'ptr=- sender=s@x recipient=r@y conds=- lists=- dns=ok '
            'ms=1.000\n' % (lab(t), action, rule, ip))


def grey(t, ip, reason="Pass and auto-whitelist IP"):
    """A greyd pass line for client ip."""
    return ('%s greyd: info: decision action=pass reason="%s" client=%s '
            'net=x sender=s recipient=r helo=h ptr=p class=none\n'
            % (lab(t), reason, ip))
