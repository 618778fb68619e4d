#!/usr/bin/env python3
"""stream.py - a seeded request stream and the DNS list data behind it,
for bench/policyd.

    stream.py DIR [REQUESTS] [SEED]
writes DIR/requests (one "CLIENT HELO PTR SENDER" line each, the input
of policyd-load), the rbldnsd ip4set files DIR/zen, DIR/spamcop and
DIR/barracuda, DIR/generic (MX and A records of the servers' domains
under example.com) and DIR/empty (a dnset that answers NXDOMAIN).
The model: 55 % of requests come from 30,000 spam-bots
(about 60 % of them listed somewhere, zen most often; no PTR or an
access-network PTR, HELO a bare address, a word or a dynamic name), 45 %
from 3,000 mail servers (proper PTR and HELO; 2 % listed once).  That
gives roughly a third of requests listed on one list or more, the rate
seen in front of a small MX.
"""
import random
import sys


def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200000
    rnd = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
    lists = {"zen": [], "spamcop": [], "barracuda": []}
    bots, servers = [], []
    seen = set()

    def fresh(first):
        while True:
            ip = "%d.%d.%d.%d" % (first, rnd.randint(0, 255),
                                  rnd.randint(0, 255), rnd.randint(1, 254))
            if ip not in seen:
                seen.add(ip)
                return ip

    for i in range(30000):
        ip = fresh(rnd.choice((41, 77, 103, 177, 186, 190, 200)))
        dash = ip.replace(".", "-")
        shape = rnd.random()
        if shape < 0.4:
            ptr = "-"
        elif shape < 0.8:
            ptr = "dsl-%s.dyn.isp%d.example.net" % (dash, i % 40)
        else:
            ptr = "mail%d.hosting%d.example.org" % (i, i % 90)
        helo = rnd.choice(("[%s]" % ip, "PC-%d" % i, "WIN-%X" % (i * 7919),
                           "dsl-%s.dyn.isp%d.example.net" % (dash, i % 40),
                           "mail%d.hosting%d.example.org" % (i, i % 90)))
        listed = rnd.random() < 0.6
        if listed:
            if rnd.random() < 0.85:
                lists["zen"].append(ip)
            if rnd.random() < 0.35:
                lists["spamcop"].append(ip)
            if rnd.random() < 0.45:
                lists["barracuda"].append(ip)
        bots.append((ip, helo, ptr))
    for i in range(3000):
        ip = fresh(rnd.choice((192, 193, 194, 195, 212, 213, 217)))
        name = "mx%d.mail%d.example.com" % (i % 4, i)
        if rnd.random() < 0.02:
            lists[rnd.choice(("zen", "spamcop", "barracuda"))].append(ip)
        servers.append((ip, name, name))
    with open(out + "/requests", "w") as f:
        for i in range(n):
            if rnd.random() < 0.55:
                ip, helo, ptr = rnd.choice(bots)
                sender = "%s@%s.example.net" % (
                    "".join(rnd.choice("abcdefghij") for _ in range(8)),
                    rnd.choice(("mail", "shop", "info")))
            else:
                ip, helo, ptr = rnd.choice(servers)
                sender = "news@" + helo.split(".", 1)[1]
            f.write("%s %s %s %s\n" % (ip, helo, ptr, sender))
    # the rest of the DNS a peer that checks HELO, MX and PTR asks for:
    # the servers' domains with MX and A records (rbldnsd "generic"),
    # everything else NXDOMAIN (an empty dnset)
    with open(out + "/generic", "w") as f:
        for ip, helo, _ in servers:
            dom = helo.split(".", 1)[1]
            f.write("%s MX 10 %s.\n%s A %s\n" % (
                dom[:-len(".example.com")], helo, helo[:-len(".example.com")],
                ip))
    with open(out + "/empty", "w") as f:
        f.write("$SOA 0 ns.example. hostmaster.example. 1 3600 600 86400 300\n"
                "nothing.invalid\n")
    for name, ips in lists.items():
        with open("%s/%s" % (out, name), "w") as f:
            f.write("$SOA 0 %s. hostmaster.example. 1 3600 600 86400 300\n"
                    ":127.0.0.2:Listed\n" % name)
            f.write("\n".join(sorted(set(ips))) + "\n")


if __name__ == "__main__":
    main()
