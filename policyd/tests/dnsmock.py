#!/usr/bin/env python3
"""dnsmock.py - a small DNS list server for policyd's tests, on loopback.

Command line in rbldnsd's style, so a test can start rbld (or rbldnsd)
with the same arguments and the same data files:
    dnsmock.py -b 127.0.0.1/PORT [-l LOGFILE] zone:ip4set:FILE
               zone:ip6trie:FILE ... [--silent ZONE] [--servfail ZONE]
               [--truncate ZONE] [--control FILE]
Data files: the subset of rbldnsd's ip4set/ip6trie format the tests use:
'#' comments, '$TTL n', '$SOA ttl origin person serial refresh retry
expire minttl', ':A:TXT' default lines, and entries 'ADDR[/LEN] [:A[:TXT]]'.
--silent zones never get an answer, --servfail ones get SERVFAIL and
--truncate ones an empty reply with TC set: the failures policyd must
survive.  --control FILE: while FILE exists, each of its lines
"ZONE MODE" (MODE silent, servfail, truncate, data, or slow:MS: the
data's answer MS milliseconds late) overrides that zone's mode, read
afresh for every query: a test stops one list's answers, slows them,
and resumes them.  Unknown options of rbldnsd (-n, -r, -u ...)
are ignored.
"""
import ipaddress
import socket
import struct
import sys
import time


class Zone:
    def __init__(self, name):
        self.name = name
        self.mode = "data"
        self.ttl = 2100
        self.soa = None          # (ttl, origin, person, serial, ..., minttl)
        self.nets = []           # (network, a, txt)


def parse_data(zone, path):
    default_a, default_txt = "127.0.0.2", ""
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("$TTL"):
                zone.ttl = int(line.split()[1])
                continue
            if line.startswith("$SOA"):
                w = line.split()
                zone.soa = [int(w[1])] + w[2:4] + [int(x) for x in w[4:9]]
                continue
            if line.startswith(":"):
                parts = line[1:].split(":", 1)
                default_a = parts[0]
                default_txt = parts[1] if len(parts) > 1 else ""
                continue
            key, _, val = line.partition(" ")
            val = val.strip()
            a, txt = default_a, default_txt
            if val.startswith(":"):
                parts = val[1:].split(":", 1)
                a = parts[0] or default_a
                txt = parts[1] if len(parts) > 1 else default_txt
            elif val:
                txt = val
            if not a.count("."):
                a = "127.0.0." + a
            zone.nets.append((ipaddress.ip_network(key, strict=False), a,
                              txt))


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def parse_query(data):
    if len(data) < 12:
        return None
    qid, flags, qd = struct.unpack("!HHH", data[:6])
    if qd != 1:
        return None
    p, labels = 12, []
    while p < len(data) and data[p]:
        n = data[p]
        labels.append(data[p + 1:p + 1 + n].decode("ascii", "replace"))
        p += n + 1
    if p + 5 > len(data):
        return None
    qtype, qclass = struct.unpack("!HH", data[p + 1:p + 5])
    return qid, flags, ".".join(labels).lower(), qtype, data[12:p + 5]


def address_of(rel):
    labels = rel.split(".")
    try:
        if len(labels) == 4:
            return ipaddress.ip_address(".".join(reversed(labels)))
        if len(labels) == 32:
            h = "".join(reversed(labels))
            return ipaddress.ip_address(":".join(h[i:i + 4]
                                                 for i in range(0, 32, 4)))
    except ValueError:
        return None
    return None


def rr(name_ptr, rtype, ttl, rdata):
    return name_ptr + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata


def soa_rr(zone):
    t, origin, person, serial, refresh, retry, expire, minttl = zone.soa
    rdata = encode_name(origin) + encode_name(person) + struct.pack(
        "!IIIII", serial, refresh, retry, expire, minttl)
    return rr(encode_name(zone.name), 6, t or zone.ttl, rdata)


def control_modes(path):
    modes = {}
    try:
        with open(path) as f:
            for line in f:
                w = line.split()
                if len(w) == 2:
                    modes[w[0].lower()] = w[1]
    except OSError:
        pass
    return modes


def answer(zones, data, override=None):
    """(reply or None, qname or None, seconds to hold the reply)"""
    q = parse_query(data)
    if not q:
        return None, None, 0
    qid, flags, qname, qtype, question = q
    zone = None
    for z in zones:
        if qname == z.name or qname.endswith("." + z.name):
            if not zone or len(z.name) > len(zone.name):
                zone = z
    rd = flags & 0x0100
    mode = zone.mode if zone else None
    if zone and override and zone.name in override:
        mode = override[zone.name]
    delay = 0
    if mode and mode.startswith("slow:"):
        delay, mode = int(mode[5:]) / 1000.0, "data"

    def reply(rcode, an=b"", ancount=0, ns=b"", nscount=0, tc=0):
        hdr = struct.pack("!HHHHHH", qid, 0x8000 | 0x0400 | rd | tc | rcode,
                          1, ancount, nscount, 0)
        return hdr + question + an + ns

    if zone is None:
        return reply(5), qname, 0
    if mode == "silent":
        return None, qname, 0
    if mode == "servfail":
        return reply(2), qname, 0
    if mode == "truncate":
        return reply(0, tc=0x0200), qname, 0
    rel = qname[:-len(zone.name) - 1] if qname != zone.name else ""
    addr = address_of(rel) if rel else None
    hits = [(a, t) for net, a, t in zone.nets if addr is not None
            and addr.version == net.version and addr in net]
    neg = (soa_rr(zone), 1) if zone.soa else (b"", 0)
    if not hits:
        return reply(3, ns=neg[0], nscount=neg[1]), qname, delay
    an, count = b"", 0
    for a, t in hits[:1]:
        if qtype in (1, 255):
            an += rr(b"\xc0\x0c", 1, zone.ttl, socket.inet_aton(a))
            count += 1
        if qtype in (16, 255) and t:
            txt = t.replace("$", str(addr)).encode()[:255]
            an += rr(b"\xc0\x0c", 16, zone.ttl, bytes([len(txt)]) + txt)
            count += 1
    if not count:
        return reply(0, ns=neg[0], nscount=neg[1]), qname, delay
    return reply(0, an, count), qname, delay


def main(argv):
    zones, bind, logfile, modes, control = {}, None, None, {}, None
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "-b":
            bind = argv[i + 1]
            i += 2
        elif a == "-l":
            logfile = argv[i + 1].lstrip("+")
            i += 2
        elif a == "--control":
            control = argv[i + 1]
            i += 2
        elif a in ("--silent", "--servfail", "--truncate"):
            modes[argv[i + 1]] = a[2:]
            i += 2
        elif a in ("-u", "-r", "-w", "-t", "-c", "-p", "-s"):
            i += 2
        elif a.startswith("-"):
            i += 1
        else:
            name, kind, path = a.split(":", 2)
            z = zones.get(name.lower()) or Zone(name.lower())
            parse_data(z, path)
            zones[z.name] = z
            i += 1
    for name, mode in modes.items():
        z = zones.get(name.lower()) or Zone(name.lower())
        z.mode = mode
        zones[z.name] = z
    host, _, port = bind.partition("/")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((host, int(port or 53)))
    log = open(logfile, "a", buffering=1) if logfile else None
    end = time.time() + 3600           # tests are bounded; so is the mock
    held = []                          # (send at, reply, peer), slow zones
    while time.time() < end:
        now = time.time()
        for item in [h for h in held if h[0] <= now]:
            sock.sendto(item[1], item[2])
            held.remove(item)
        wait = min([h[0] for h in held] + [now + 1.0]) - now
        sock.settimeout(max(wait, 0.001))
        try:
            data, peer = sock.recvfrom(4096)
        except socket.timeout:
            continue
        override = control_modes(control) if control else None
        out, qname, delay = answer(zones.values(), data, override)
        if log and qname is not None:
            log.write("%s\n" % qname)
        if out and delay:
            held.append((time.time() + delay, out, peer))
        elif out:
            sock.sendto(out, peer)


if __name__ == "__main__":
    main(sys.argv[1:])
