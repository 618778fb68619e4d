#!/usr/bin/env python3
"""dnsq.py - a small DNS client for rbld's tests (standard library only).

  dnsq.py ask ADDR:PORT NAME TYPE [CLASS] [+edns|+edns=two|+edns=bad] [+tcp] [+src=IP]
      prints the reply in a canonical one-line-per-item form
  dnsq.py diff ADDR:PORT ADDR:PORT QUERYFILE
      sends every query of QUERYFILE to both servers and compares the
      canonical replies; a query line is
        NAME TYPE [CLASS] [+edns[=two|=bad]] [+src=IP] [!allow=REASON]
      "!allow=REASON" names a difference the test expects (rbld better
      on purpose); such lines are compared on what is not affected.
      Prints "ok - ..." / "not ok - ..." lines.
  dnsq.py load ADDR:PORT QUERYFILE SECONDS
      sends the queries in a loop for SECONDS, checks every reply
      against the first one seen for that query, counts losses.
"""
import random
import socket
import struct
import sys
import time

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15,
         "TXT": 16, "AAAA": 28, "OPT": 41, "IXFR": 251, "AXFR": 252,
         "MAILB": 253, "ANY": 255, "TSIG": 250, "URI": 256}
CLASSES = {"IN": 1, "CH": 3, "HS": 4, "ANY": 255, "NONE": 254}
RTYPES = {v: k for k, v in TYPES.items()}


def qtype(t):
    return TYPES[t.upper()] if t.upper() in TYPES else int(t.upper().lstrip("TYPE"))


def build(name, t, c="IN", edns=False, qid=None, flags=0x0100, opt_ver=0,
          udp=1232):
    qid = random.randint(0, 65535) if qid is None else qid
    ar = 2 if edns == "two" else 1 if edns else 0
    h = struct.pack(">HHHHHH", qid, flags, 1, 0, 0, ar)
    q = b""
    for lab in name.rstrip(".").split(".") if name not in (".", "") else []:
        b = lab.encode("latin-1")
        q += bytes([len(b)]) + b
    q += b"\0" + struct.pack(">HH", qtype(t), CLASSES.get(c.upper(), 1))
    if edns:           # "two": two OPT RRs; "bad": RDLENGTH past the end
        rdlen = 4 if edns == "bad" else 0
        opt = b"\0" + struct.pack(">HHBBHH", 41, udp, 0, opt_ver, 0, rdlen)
        q += opt * (2 if edns == "two" else 1)
    return qid, h + q


def name_at(p, off):
    labs, jumps = [], 0
    end = None
    while True:
        n = p[off]
        if n >= 0xC0:
            if end is None:
                end = off + 2
            off = ((n & 0x3F) << 8) | p[off + 1]
            jumps += 1
            if jumps > 50:
                raise ValueError("loop")
            continue
        off += 1
        if n == 0:
            break
        labs.append(p[off:off + n].decode("latin-1"))
        off += n
    return ".".join(labs) + ".", (end if end is not None else off)


def rdata(p, off, t, ln):
    d = p[off:off + ln]
    if t == 1:
        return ".".join(str(x) for x in d)
    if t in (2, 5, 12):
        return name_at(p, off)[0]
    if t == 15:
        return "%d %s" % (struct.unpack(">H", d[:2])[0], name_at(p, off + 2)[0])
    if t == 6:
        m, o = name_at(p, off)
        r, o = name_at(p, o)
        return "%s %s %s" % (m, r, " ".join(str(x) for x in struct.unpack(">IIIII", p[o:o + 20])))
    if t == 16:
        out, i = [], 0
        while i < len(d):
            out.append('"%s"' % d[i + 1:i + 1 + d[i]].decode("latin-1"))
            i += 1 + d[i]
        return " ".join(out)
    return d.hex()


def parse(p):
    qid, fl, qd, an, ns, ar = struct.unpack(">HHHHHH", p[:12])
    off = 12
    for _ in range(qd):
        _, off = name_at(p, off)
        off += 4
    secs = []
    for cnt in (an, ns, ar):
        rrs = []
        for _ in range(cnt):
            nm, off = name_at(p, off)
            t, c, ttl, ln = struct.unpack(">HHIH", p[off:off + 10])
            off += 10
            if t == 41:
                rrs.append("OPT udp=%d ext=%d ver=%d" % (c, ttl >> 24, (ttl >> 16) & 255))
            else:
                rrs.append("%s %d %s %s %s" % (nm, ttl, c, RTYPES.get(t, t), rdata(p, off, t, ln)))
            off += ln
        secs.append(rrs)
    return qid, fl, secs


def canon(p, ignore_opt=False):
    if p is None:
        return ["NO REPLY"]
    qid, fl, (an, ns, ar) = parse(p)
    rc = fl & 15
    out = ["rcode=%d opcode=%d qr=%d aa=%d tc=%d rd=%d" % (
        rc, (fl >> 11) & 15, fl >> 15, (fl >> 10) & 1, (fl >> 9) & 1, (fl >> 8) & 1)]
    out += ["AN " + x for x in sorted(an)]
    out += ["NS " + x for x in sorted(ns)]
    out += ["AR " + x for x in sorted(ar) if not (ignore_opt and x.startswith("OPT"))]
    return out


def hostport(s):
    h, p = s.rsplit(":", 1)
    return h, int(p)


def send_udp(server, pkt, qid, src=None, timeout=1.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if src:
        s.bind((src, 0))
    s.settimeout(timeout)
    try:
        s.sendto(pkt, hostport(server))
        end = time.time() + timeout
        while time.time() < end:
            d, _ = s.recvfrom(65535)
            if len(d) >= 12 and struct.unpack(">H", d[:2])[0] == qid:
                return d
    except socket.timeout:
        return None
    finally:
        s.close()
    return None


def send_tcp(server, pkt, timeout=2.0):
    s = socket.create_connection(hostport(server), timeout=timeout)
    try:
        s.sendall(struct.pack(">H", len(pkt)) + pkt)
        buf = b""
        while len(buf) < 2 or len(buf) < 2 + struct.unpack(">H", buf[:2])[0]:
            d = s.recv(65535)
            if not d:
                return None
            buf += d
        return buf[2:2 + struct.unpack(">H", buf[:2])[0]]
    finally:
        s.close()


def parse_line(line):
    w = line.split()
    name, t = w[0], w[1]
    c, edns, src, allow, tcp = "IN", False, None, None, False
    for x in w[2:]:
        if x == "+edns":
            edns = True
        elif x in ("+edns=two", "+edns=bad"):
            edns = x[6:]
        elif x == "+tcp":
            tcp = True
        elif x.startswith("+src="):
            src = x[5:]
        elif x.startswith("!allow="):
            allow = x[7:]
        else:
            c = x
    return name, t, c, edns, src, allow, tcp


def ask(server, line):
    name, t, c, edns, src, _, tcp = parse_line(line)
    qid, pkt = build(name, t, c, edns)
    if tcp:
        return send_tcp(server, pkt)
    return send_udp(server, pkt, qid, src)


def main_ask(args):
    server, rest = args[0], " ".join(args[1:])
    for x in canon(ask(server, rest)):
        print(x)


# Differences the issue asks for, by reason: what to ignore when comparing.
def allowed(reason, ca, cb):
    if reason == "edns-opt":      # RFC 6891: rbld answers OPT with OPT
        return [x for x in ca if not x.startswith("AR OPT")] == cb
    if reason == "formerr":        # RFC 6891: two OPT RRs, or a broken
        return ca[0].startswith("rcode=1 ")    # one: FORMERR
    if reason == "tc":             # too big for UDP: rbld sets TC, rbldnsd
        return ca[0].split()[0] == cb[0].split()[0] and "tc=1" in ca[0]
    return False


def main_diff(args):
    a, b, qfile = args
    bad = n = allowed_n = 0
    for line in open(qfile):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        n += 1
        reason = parse_line(line)[5]
        ca = canon(ask(a, line))
        cb = canon(ask(b, line))
        if ca == cb:
            continue
        if reason and allowed(reason, ca, cb):
            allowed_n += 1
            continue
        bad += 1
        if bad <= 30:
            print("# differs: %s\n#  rbld:    %s\n#  rbldnsd: %s" % (
                line, " | ".join(ca), " | ".join(cb)))
    print("# %d queries, %d differ, %d expected differences" % (n, bad, allowed_n))
    print("%s - differential: %d queries, same answers from rbld and rbldnsd"
          % ("ok" if bad == 0 and n > 0 else "not ok", n))
    return 0 if bad == 0 else 1


def main_load(args):
    server, qfile, secs = args[0], args[1], float(args[2])
    lines = [l.strip() for l in open(qfile) if l.strip() and not l.startswith("#")]
    want, sent, lost, wrong = {}, 0, 0, 0
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    end = time.time() + secs
    i = 0
    while time.time() < end and sent < 2000000:
        line = lines[i % len(lines)]
        i += 1
        name, t, c, edns, _, _, _ = parse_line(line)
        qid, pkt = build(name, t, c, edns, qid=i & 0xFFFF)
        s.sendto(pkt, hostport(server))
        sent += 1
        try:
            while True:
                d, _ = s.recvfrom(65535)
                if struct.unpack(">H", d[:2])[0] == qid:
                    break
        except socket.timeout:
            lost += 1
            continue
        got = canon(d)
        if line not in want:
            want[line] = got
        elif want[line] != got:
            wrong += 1
            if wrong < 5:
                print("# changed: %s: %s / %s" % (line, want[line], got))
    print("# load: %d sent, %d lost, %d answered differently" % (sent, lost, wrong))
    return 0 if lost == 0 and wrong == 0 else 1


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "ask":
        main_ask(sys.argv[2:])
    elif cmd == "diff":
        sys.exit(main_diff(sys.argv[2:]))
    elif cmd == "load":
        sys.exit(main_load(sys.argv[2:]))
    else:
        sys.exit(100)
