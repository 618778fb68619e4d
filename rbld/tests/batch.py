#!/usr/bin/env python3
"""batch.py PORT PID QUERYFILE - every query asked alone, then the same
packets sent back to back while rbld (PID) is stopped, so that its
recvmmsg takes them in batches of 2 to 64 (its lookups go in groups of
16): each reply must be the same, byte for byte, as the one the packet
got alone, and a packet that got none alone must get none in a batch.

The queries are QUERYFILE's lines (dnsq.py's format, with +src=IP)
followed by raw packets made here: malformed ones, flags, EDNS sizes
and versions, edge names.  Prints "ok - ..." / "not ok - ..." lines;
counts are checked against the numbers the test expects (EXPECT_*
environment variables) so that a query set that went wrong shows."""
import os
import random
import select
import signal
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsq  # noqa: E402

PORT, PID, QFILE = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
SERVER = ("127.0.0.1", PORT)
SOURCES = ["127.0.0.%d" % i for i in range(1, 7)]


def hdr(flags=0x0100, qd=1, an=0, ns=0, ar=0):
    return struct.pack(">HHHHHH", 0, flags, qd, an, ns, ar)


def wire(name):
    q = b""
    for lab in name.split(".") if name not in (".", "") else []:
        b = lab.encode("latin-1")
        q += bytes([len(b)]) + b
    return q + b"\0"


def question(name, t=1, c=1):
    return wire(name) + struct.pack(">HH", t, c)


def opt(udp=1232, ver=0, rdata=b"", name=b"\0"):
    return name + struct.pack(">HHBBHH", 41, udp, 0, ver, 0, len(rdata)) + \
        rdata


def nib(hexaddr):
    return ".".join(reversed(hexaddr))


def raw_packets():
    """(source, packet) pairs; the qid (first two bytes) is set later"""
    P = []
    big = "1.0.0.50.big.example"
    listed = "4.3.2.1.bl.example"
    for size in (0, 100, 511, 512, 513, 700, 1232, 1800, 4096, 4097,
                 65535):
        for n, t in ((big, 16), (big, 255), (listed, 255), ("bl.example", 6)):
            P.append(hdr(ar=1) + question(n, t) + opt(size))
    for ver in (1, 2, 255):
        P.append(hdr(ar=1) + question(listed, 1) + opt(1232, ver))
    P.append(hdr(ar=1) + question(listed, 1) + opt(1232, 0, b"\0\x0a\0\x08" +
                                                 b"cookie!!"))
    P.append(hdr(ar=1) + question(listed, 1) + opt(name=b"\x01a\0"))
    P.append(hdr(ar=1) + question(listed, 1) + opt()[:-3])       # cut off
    P.append(hdr(ar=1) + question(listed, 1) +
             b"\0" + struct.pack(">HHIH", 1, 1, 0, 4) + b"\1\2\3\4")
    P.append(hdr(an=1) + question(listed, 1) +
             b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 0, 4) + b"\1\2\3\4")
    P.append(hdr(an=1, ar=1) + question(listed, 1) +
             b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 0, 4) + b"\1\2\3\4" +
             opt(4096))
    P.append(hdr(ns=3) + question(listed, 1))                    # missing
    P.append(hdr(ar=1) + question(listed, 1) + opt() + b"trailing")
    P.append(hdr() + question(listed, 1) + b"trailing bytes")
    # larger than rbld's 4096-byte buffers: read cut short
    P.append(hdr(ar=1) + question(listed, 255) + opt(4096, 0, b"\0" * 5000))
    P.append(hdr() + question(big, 16) + b"\0" * 6000)
    # flags: opcodes, QR (no reply), TC, RD clear, Z/AD/CD, rcode bits
    for fl in (0x0000, 0x0800, 0x1000, 0x2800, 0x7900, 0x8100, 0x8000,
               0x0300, 0x0170, 0x010f, 0x0500, 0xffff):
        P.append(hdr(fl) + question(listed, 1))
        P.append(hdr(fl) + question("bl.example", 6))
    # not one question: no reply
    for qd in (0, 2, 256, 0x0101):
        P.append(hdr(qd=qd) + question(listed, 1) + question(listed, 16))
    # malformed questions: no reply
    P += [b"", b"\x12", b"\0" * 11, hdr(), hdr() + b"\0", hdr() + b"\0\0\1",
          hdr() + b"\0\0\1\0", hdr() + b"\x05abc",
          hdr() + b"\x40" + b"a" * 64 + b"\0\0\1\0\1",
          hdr() + b"\xc0\x0c\0\1\0\1",
          hdr() + b"\x01a\xc0\x0c\0\1\0\1",
          hdr() + b"\x80abc\0\0\1\0\1",
          hdr() + question(listed)[:-1]]
    P.append(hdr() + question(".", 1))                  # 17 bytes: root
    P.append(hdr() + question(".", 6))
    # the longest names (255 bytes) and one byte more
    for zone in ("dbl.example", "bl.example", "v6.example"):
        pre = 255 - len(wire(zone))
        labs = []
        while pre > 0:
            n = min(63, pre - 1)
            labs.append("x" * n)
            pre -= n + 1
        name = ".".join(labs) + "." + zone
        P.append(hdr() + question(name, 1))
        P.append(hdr() + b"\x01y" + question(name, 1))
    # 4-label names: lengths, digits and what is next to them
    for pre in ("1.2.3.4", "4.3.2.1", "004.003.002.001", "255.255.255.255",
                "256.1.1.1", "1.1.1.256", "0.0.0.0", "1.2.3.4444", "1.2.3.",
                "/.2.3.4", ":.2.3.4", "1/.2.3.4", "1:.2.3.4", "19:.2.3.4",
                "1.2.3.4/", "9.9.9.9", "10.0.0.1", "0x1.2.3.4",
                "12345678901234567890123456789012.2.3.4",
                "1.2.3.12345678901234567890123456789012345678901234567",
                "1.0.0.50", "4.3.2.a", "4.3.2.1.1", "3.2.1"):
        for zone in ("bl.example", "trie.example", "t.example",
                     "multi.example", "proxies.comb.example"):
            P.append(hdr() + question(pre + "." + zone, 16))
    for lab in (b"1\0", b"\0", b"\xff", b"1\xff", b"12\0", b"\x39\x3a",
                b"2\x2f5"):
        for i in range(4):
            labs = [b"1", b"2", b"3", b"4"]
            labs[i] = lab
            name = b"".join(bytes([len(x)]) + x for x in labs)
            P.append(hdr() + name + wire("bl.example") + b"\0\x10\0\1")
    # IPv6 nibble names: case, bad nibbles, 31 and 33 labels
    full = "20010db8000100020000000000000bead"
    for h in (full[:32], full[:32].upper(), full[:31] + "g",
              full[:31], full[:32] + "0"):
        for zone in ("v6.example", "v6t.example", "bl.example"):
            P.append(hdr() + question(nib(h) + "." + zone, 16))
    P.append(hdr() + question("10.b.d.0.1.0.0.2.v6.example", 1))
    # dnset: names over 32 bytes, many labels, wildcards, case
    for n in ("a" * 40 + ".wild.com", "A.b.C.d.E.f.g.h.i.j.k.WILD.com",
              "x" * 63 + ".both.com", "example.com", "EXAMPLE.COM",
              "bad.both.com", "q.bad.both.com", "y.x.wild.com",
              "z.y.x.wild.com", "com", "x.multi.com"):
        P.append(hdr() + question(n + ".dbl.example", 16))
        P.append(hdr() + question(n + ".names.comb.example", 255))
    # classes and version.bind
    for n, t, c in (("version.bind", 16, 3), ("VERSION.BIND", 16, 3),
                    ("version.server", 16, 3), ("version.bind", 1, 3),
                    ("version.bind", 255, 3), ("hostname.bind", 16, 3),
                    ("version.bind", 16, 1), (listed, 1, 3),
                    (listed, 1, 4), (listed, 1, 254), (listed, 1, 255),
                    ("bl.example", 6, 255), (listed, 1, 0),
                    (listed, 1, 65535), ("version.bind", 16, 255)):
        P.append(hdr() + question(n, t, c))
        P.append(hdr(ar=1) + question(n, t, c) + opt(512))
    # types beyond the usual
    for t in (0, 249, 250, 251, 252, 253, 254, 256, 65535, 28, 99):
        P.append(hdr() + question(listed, t))
    # a zone whose data did not load
    for n in ("x.example", "4.3.2.1.x.example"):
        P.append(hdr() + question(n, 1))
    out = []
    for p in P:
        out.append(("127.0.0.1", p))
    # the ACL zone from every source, ignore (127.0.0.5) included
    for src in SOURCES:
        for n, t in (("1.1.1.1.acl.example", 16), ("acl.example", 255),
                     ("9.9.9.9.acl.example", 1), ("www.acl.example", 16)):
            out.append((src, hdr() + question(n, t)))
            out.append((src, hdr(ar=1) + question(n, t) + opt(4096)))
    return out


def file_packets():
    out = []
    for line in open(QFILE):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, t, c, edns, src, _, tcp = dnsq.parse_line(line)
        if tcp:
            continue
        _, pkt = dnsq.build(name, t, c, edns, qid=0)
        out.append((src or "127.0.0.1", pkt))
    return out


def with_qid(pkt, qid):
    if len(pkt) < 2:
        return pkt
    return struct.pack(">H", qid) + pkt[2:]


def open_socks():
    socks = {}
    for src in SOURCES:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.bind((src, 0))
        s.setblocking(False)
        socks[src] = s
    return socks


def recv_all(socks, want, limit):
    """replies by (source, qid) until want of them or limit seconds"""
    got, extra = {}, []
    end = time.time() + limit
    by_fd = {s.fileno(): (src, s) for src, s in socks.items()}
    while len(got) < want and time.time() < end:
        r, _, _ = select.select(list(by_fd), [], [], 0.05)
        for fd in r:
            src, s = by_fd[fd]
            while True:
                try:
                    d = s.recv(65535)
                except BlockingIOError:
                    break
                key = (src, struct.unpack(">H", d[:2])[0] if len(d) > 1
                       else -1)
                if key in got:
                    extra.append(key)
                got[key] = d
    return got, extra


def stopped(pid):
    """every thread of pid stopped (state T or t)"""
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
            st = f.read().rsplit(")", 1)[1].split()[0]
        if st not in "Tt":
            return False
    return True


def udp_drops(port):
    n = 0
    with open("/proc/net/udp") as f:
        for line in list(f)[1:]:
            w = line.split()
            if int(w[1].split(":")[1], 16) == port:
                n += int(w[-1])
    return n


def main():
    pk = file_packets()
    nfile = len(pk)
    pk += raw_packets()
    if len(pk) > 65000:
        print("not ok - too many packets for one qid each")
        return 1
    pk = [(src, with_qid(p, i + 1)) for i, (src, p) in enumerate(pk)]
    socks = open_socks()

    # alone: one at a time, each answer (or its absence) awaited
    single = {}
    for i, (src, p) in enumerate(pk):
        qid = i + 1
        socks[src].sendto(p, SERVER)
        got, _ = recv_all({src: socks[src]}, 1, 0.3)
        if (src, qid) in got:
            single[i] = got[(src, qid)]
        elif got:
            print("# alone: packet %d drew a reply with another id" % i)
            single[i] = b"?"
        if i + 1 - len(single) > 100:    # rbld gone: do not wait on
            print("not ok - over 100 packets without a reply alone")
            return 1
    noreply = len(pk) - len(single)
    print("# %d packets (%d from the query file), %d get no reply alone"
          % (len(pk), nfile, noreply))
    ok = lambda c, m: print("%s - %s" % ("ok" if c else "not ok", m))
    ok(nfile == int(os.environ.get("EXPECT_FILE", -1)),
       "the query file's %d queries" % nfile)
    ok(len(pk) - nfile == int(os.environ.get("EXPECT_RAW", -1)),
       "%d raw packets" % (len(pk) - nfile))
    ok(noreply == int(os.environ.get("EXPECT_NOREPLY", -1)),
       "%d packets get no reply alone" % noreply)

    # batched: rbld stopped while a window of packets is queued
    rnd = random.Random(16)
    orders = [("in order, windows of 64", list(range(len(pk))), [64]),
              ("shuffled, windows of 1 to 130", rnd.sample(range(len(pk)),
                                                         len(pk)),
               [2, 3, 15, 16, 17, 31, 33, 47, 48, 63, 64, 65, 100, 130, 1]),
              ("reversed, windows of 128", list(range(len(pk)))[::-1], [128])]
    drops0 = udp_drops(PORT)
    for title, order, sizes in orders:
        differ, missing, unexpected, windows = 0, 0, 0, 0
        pos = 0
        while pos < len(order):
            win = order[pos:pos + sizes[windows % len(sizes)]]
            pos += len(win)
            windows += 1
            os.kill(PID, signal.SIGSTOP)
            for _ in range(200):
                if stopped(PID):
                    break
                time.sleep(0.001)
            for i in win:
                src, p = pk[i]
                socks[src].sendto(p, SERVER)
            os.kill(PID, signal.SIGCONT)
            want = sum(1 for i in win if i in single)
            got, extra = recv_all(socks, want, 3.0)
            more, extra2 = recv_all(socks, 1 << 30, 0.02)
            unexpected += len(extra) + len(extra2)
            got.update(more)
            for i in win:
                src, p = pk[i]
                b = got.pop((src, i + 1), None)
                if b is None and i in single:
                    missing += 1
                    if missing <= 3:
                        print("# %s: no reply to packet %d %r"
                              % (title, i, p[:60]))
                elif b is not None and i not in single:
                    unexpected += 1
                    print("# %s: packet %d got a reply (none alone)"
                          % (title, i))
                elif b is not None and b != single[i]:
                    differ += 1
                    if differ <= 3:
                        print("# %s: packet %d %s\n#  alone: %s\n#  batch: %s"
                              % (title, i, p[:40].hex(), single[i][:60].hex(),
                                 b[:60].hex()))
            unexpected += len(got)
        ok(differ == 0 and missing == 0 and unexpected == 0,
           "%s (%d windows): %d differ, %d missing, %d unexpected"
           % (title, windows, differ, missing, unexpected))
    ok(udp_drops(PORT) == drops0, "no packet dropped by the kernel")
    return 0


if __name__ == "__main__":
    sys.exit(main())
