#!/usr/bin/env python3
"""gendata.py DIR [SEED] - writes rbldnsd-format zone files covering the
data syntax into DIR, the zone specs into DIR/zones (one a line) and
thousands of queries into DIR/queries (dnsq.py's format).  Every query
is derived from the data: listed, unlisted, excluded, range edges, apex,
other types, odd case, out of zone.  Deterministic for a given seed."""
import gzip
import os
import random
import sys

D = sys.argv[1]
R = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 4)
Q = []          # query lines
ZONES = []


def w(name, text, gz=False):
    p = os.path.join(D, name)
    if gz:
        with gzip.open(p, "wb") as f:
            f.write(text.encode())
    else:
        with open(p, "w") as f:
            f.write(text)
    os.chmod(p, 0o644)


def rev(ip):
    return ".".join(reversed(ip.split(".")))


def i2ip(n):
    return "%d.%d.%d.%d" % (n >> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255)


def ip2i(s):
    a = [int(x) for x in s.split(".")]
    return (a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3]


def oddcase(s):
    return "".join(c.upper() if R.random() < 0.5 else c for c in s)


def ipq(zone, ip, types=("A", "TXT")):
    for t in types:
        Q.append("%s.%s %s" % (rev(ip), zone, t))


SOA = "$SOA 0 ns1.example.net hostmaster.example.net %s 1h 10m 1w 5m\n"
NS = "$NS 1d ns1.example.net ns2.example.net -ns3.example.net\n"

# ---- ip4set over two files, one gzipped, with every syntax feature
bl1 = [SOA % 2024, NS, "# comment\n", "; another comment\n",
       "$1 see http://bl.example/\n", "$2 for details\n",
       ":127.0.0.2:Listed: $1$ $2\n",
       "1.2.3.4\n", "1.2.3.5 :3:own text for $\n", "1.2.3.6 :4\n",
       "1.2.3.7 :5:\n", "1.2.3.8 just text $ and $$ and $9\n",
       "1.2.3.9 # trailing comment\n", "1.2.3.10:6:no space $\n",
       "2.3.4\n", "3.4/16\n", "5.6.7.0/26 :2:a /26 $\n",
       "5.6.7.0/28 :3:a /28 $\n", "5.6.7.40/32 :4:single\n",
       "6.0.0.0/24 :2:whole /24\n", "6.0.0.7 :3:single hides /24\n",
       "7.16.0.0/12 :2:slash12\n", "8.1.1.1-8.1.1.20 :2:range\n",
       "8.1.2-8.1.3 :3:prefix range\n", "9.16-31 :2:suffix form\n",
       "10.0.0.5-9 :4:one octet suffix\n", "11.0.0.250-11.0.2.5 :2:edges\n",
       "12.0.0.0/8 :2:eight\n", "!12.0.0.1\n", "!12.1.0.0/16\n",
       "12.1.2.3 :3:listed inside excluded /16\n",
       "13.0.0.0/24\n", "!13.0.0.128/25\n",
       "14.1.1.1 :2:dup\n", "14.1.1.1 :2:dup\n", "14.1.1.1 :3:dup other\n",
       "15.0.0.1/24\n", "not-an-ip\n", "16.1.1.300\n", "17.0.0.0/33\n",
       "18.1.1.1 :0:bad A\n", "19.1.1.1 :127.0.0.9:full A value\n",
       "020.001.002.003 :2:leading zeros\n",
       "$TTL 10m\n", "21.1.1.1 :2:after ttl\n",
       "$MAXRANGE4 /16\n", "22.0.0.0/8 :2:too big\n", "23.1.0.0/16 :2:just fits\n",
       "$= Base [$=] for $\n", "24.1.1.1 entry text\n", "24.1.1.2\n",
       "24.1.1.3 =bypass $\n", "25.1.1.1 " + "L" * 300 + "\n",
       "$SOA 0 other.example.net h.example.net 9 1 1 1 1\n",
       "#$ 3 hashdollar var\n", "26.1.1.1 :2:$3\n"]
w("bl1.ip4set", "".join(bl1))
bl2 = [":127.0.0.3:second file $\n", "30.1.1.1\n", "30.1.1.2 :2\n",
       "!1.2.3.6\n", "31.0.0.0/24\n", "31.0.0.0/25 :4:half\n", "31.0.0.0/26 :5:quarter\n"]
bl2 += ["40.%d.%d.%d\n" % (R.randrange(256), R.randrange(256), R.randrange(256))
        for _ in range(300)]
w("bl2.ip4set.gz", "".join(bl2), gz=True)
w("bl.generic", "@ A 127.0.0.8\n@ TXT \"the bl zone\"\n@ MX 10 mx.example.net\n"
  "www 3000 A 127.0.0.9\nwww IN TXT web\nwww MX 20 mx2.example.net\n"
  "bad-line\nbig A 1.1.1.1\n")
ZONES.append("bl.example:ip4set:bl1.ip4set,bl2.ip4set.gz")
ZONES.append("bl.example:generic:bl.generic")

singles = ["1.2.3.%d" % i for i in range(2, 12)] + [
    "2.3.4.1", "2.3.4.255", "2.3.5.1", "3.4.0.0", "3.4.255.255", "3.5.0.1",
    "5.6.7.0", "5.6.7.10", "5.6.7.15", "5.6.7.16", "5.6.7.40", "5.6.7.63",
    "5.6.7.64", "6.0.0.7", "6.0.0.8", "7.15.255.255", "7.16.0.0", "7.31.255.255",
    "7.32.0.0", "8.1.1.0", "8.1.1.1", "8.1.1.20", "8.1.1.21", "8.1.2.0",
    "8.1.3.255", "8.1.4.0", "9.15.0.0", "9.16.0.0", "9.31.255.255", "9.32.0.0",
    "10.0.0.4", "10.0.0.5", "10.0.0.9", "10.0.0.10", "11.0.0.249", "11.0.0.250",
    "11.0.1.7", "11.0.2.5", "11.0.2.6", "12.0.0.1", "12.0.0.2", "12.1.0.1",
    "12.1.2.3", "12.2.0.0", "13.0.0.1", "13.0.0.127", "13.0.0.128", "13.0.0.255",
    "14.1.1.1", "15.0.0.1", "15.0.0.2", "16.1.1.30", "18.1.1.1", "19.1.1.1",
    "20.1.2.3", "21.1.1.1", "22.1.1.1", "23.1.5.5", "24.1.1.1", "24.1.1.2",
    "24.1.1.3", "25.1.1.1", "26.1.1.1", "30.1.1.1", "30.1.1.2", "31.0.0.1",
    "31.0.0.100", "31.0.0.200", "127.0.0.2", "0.0.0.0", "255.255.255.255"]
for ip in singles:
    ipq("bl.example", ip, ("A", "TXT", "ANY", "AAAA", "MX"))
for line in bl2[7:]:
    ipq("bl.example", line.strip(), ("A", "TXT"))
for _ in range(300):
    ipq("bl.example", "40.%d.%d.%d" % (R.randrange(256), R.randrange(256), R.randrange(256)))
for _ in range(200):
    ipq("bl.example", i2ip(R.randrange(1 << 32)))
for name in ["bl.example", "www.bl.example", "big.bl.example", "nope.bl.example",
             "4.3.2.bl.example", "5.4.3.2.1.bl.example", "a.3.2.1.bl.example",
             "256.3.2.1.bl.example", "04.3.2.1.bl.example", "004.3.2.1.bl.example",
             "0004.3.2.1.bl.example", "-1.3.2.1.bl.example"]:
    for t in ("A", "TXT", "ANY", "SOA", "NS", "MX", "AAAA", "CNAME", "PTR", "TYPE99"):
        Q.append("%s %s" % (name, t))
for t in ("A", "ANY", "SOA"):
    Q.append("BL.Example %s ANY" % t)
for t in ("AXFR", "IXFR", "TSIG", "MAILB", "URI", "TYPE65535"):
    Q.append("4.3.2.1.bl.example %s" % t)
for c in ("CH", "HS", "NONE", "ANY"):
    Q.append("4.3.2.1.bl.example A %s" % c)
    Q.append("bl.example SOA %s" % c)

# ---- nested zone: longest match wins
w("sub.ip4tset", ":127.0.0.7:sub zone $\n1.2.3.4\n99.99.99.99\n")
ZONES.append("sub.bl.example:ip4tset:sub.ip4tset")
for ip in ("1.2.3.4", "99.99.99.99", "1.2.3.5"):
    ipq("sub.bl.example", ip, ("A", "TXT"))
Q.append("sub.bl.example SOA")
Q.append("sub.bl.example A")

# ---- ip4tset
t = [SOA % 0, NS, ":127.0.0.4:tset $ $1\n", ":127.0.0.5:ignored later value\n", "$1 one\n"]
tips = set()
for _ in range(500):
    tips.add(i2ip(R.randrange(1 << 32)))
t += [ip + "\n" for ip in sorted(tips)]
t += ["1.2.3\n", "!1.2.3.4\n", "5.5.5.5 trailing text\n", "6.6.6.6 # comment\n"]
w("t.ip4tset", "".join(t))
ZONES.append("t.example:ip4tset:t.ip4tset")
for ip in list(tips)[:200] + ["1.2.3.0", "1.2.3.4", "5.5.5.5", "6.6.6.6"]:
    ipq("t.example", ip)
for _ in range(100):
    ipq("t.example", i2ip(R.randrange(1 << 32)))
Q += ["t.example SOA", "t.example NS", "t.example ANY", "t.example A"]

# ---- dnset
dn = [SOA % 77, NS, ":127.0.0.2:domain $ is listed\n",
      "example.com\n", "*.wild.com :3:wild $\n", ".both.com :4:both $\n",
      "!bad.both.com\n", "deep.sub.both.com :5:deep $\n", "!*.x.wild.com\n",
      "y.x.wild.com :6:exact beats wildcard exclusion\n",
      "UPPER.Case.COM :2:case $\n", "multi.com :2:one\n", "multi.com :3:two\n",
      "*.multi.com :4:wild multi\n", "$TTL 10m\n", "ttl.com\n", ".\n", "*.\n",
      "trail.com. :2:trailing dot $\n", "a..b.com\n"]
names = []
for i in range(400):
    n = "h%d.d%d.net" % (R.randrange(100000), i)
    names.append(n)
    dn.append(("*." if i % 3 == 0 else "." if i % 3 == 1 else "") + n + "\n")
w("d.dnset", "".join(dn))
ZONES.append("dbl.example:dnset:d.dnset")
for n in ["example.com", "www.example.com", "wild.com", "a.wild.com", "a.b.wild.com",
          "both.com", "x.both.com", "bad.both.com", "a.bad.both.com",
          "deep.sub.both.com", "sub.both.com", "x.wild.com", "z.x.wild.com",
          "y.x.wild.com", "upper.case.com", "UpPeR.cAsE.cOm", "multi.com",
          "a.multi.com", "ttl.com", "trail.com", "nothere.org", "com", "net"]:
    for t in ("A", "TXT", "ANY", "MX"):
        Q.append("%s.dbl.example %s" % (oddcase(n) if R.random() < .3 else n, t))
for n in names:
    for pre in ("", "a.", "b.c."):
        Q.append("%s%s.dbl.example %s" % (pre, n, R.choice(["A", "TXT"])))
Q += ["dbl.example SOA", "dbl.example NS", "dbl.example ANY", "dbl.example TXT"]

# ---- ip4trie
tr = [SOA % 5, NS, ":127.0.0.2:trie $\n", "10.0.0.0/8 :2:eight\n",
      "10.1.0.0/16 :3:sixteen\n", "10.1.1.0/24 :4:twentyfour\n",
      "10.1.1.128/25\n", "!10.1.1.200\n", "10.1.1.201/32 :5:host\n",
      "192.168.0.0/22 :6:slash22\n", "172.16.5.0/24\n", "172.16.5.5/24\n",
      "1.2.3.4-1.2.3.5\n", "10.0.0.0/8 :7:dup prefix\n", "11.1\n", "12/8\n"]
w("tr.ip4trie", "".join(tr))
ZONES.append("trie.example:ip4trie:tr.ip4trie")
for ip in ["10.0.0.1", "10.1.0.1", "10.1.1.1", "10.1.1.129", "10.1.1.200",
           "10.1.1.201", "10.1.2.1", "11.0.0.0", "192.168.3.255", "192.168.4.0",
           "172.16.5.1", "1.2.3.4", "11.1.0.1", "12.0.0.1"]:
    ipq("trie.example", ip, ("A", "TXT", "ANY"))

# ---- ip6trie / ip6tset (queries as 32 nibbles)
def nib(hexaddr):
    return ".".join(reversed(hexaddr))


def v6full(s):
    import ipaddress
    return ipaddress.ip_address(s).exploded.replace(":", "")


w("v6.ip6trie", SOA % 6 + NS + ":127.0.1.2:v6 $\n2001:db8::/32 :2:doc\n"
  "2001:db8:1::/48 :3:forty eight\n2001:21ab:c000/36\n"
  "2001:db8:1:2::/64 :4:sixty four\n!2001:db8:1:2::bead\n::1 :5:loopback\n"
  "2605:6001:42::/52\nzz::1\n")
ZONES.append("v6.example:ip6trie:v6.ip6trie")
for a in ["2001:db8::1", "2001:db8:1::5", "2001:db8:1:2::1", "2001:db8:1:2::bead",
          "::1", "::2", "2001:21ab:c000::1", "2001:21ab:d000::1", "2605:6001:42::99",
          "2001:db9::1"]:
    for t in ("A", "TXT"):
        Q.append("%s.v6.example %s" % (nib(v6full(a)), t))
Q.append("1.2.3.4.v6.example A")
w("v6t.ip6tset", SOA % 7 + ":127.0.2.2:tset6 $\n2001:20fe:23:41ed\n"
  "abac:adab:ad00:42f\n!abac:adab:ad00:42f:face:f:a:beef\n!abac:adab:ad00:42f::2\n"
  "2001:db8::/48\n")
ZONES.append("v6t.example:ip6tset:v6t.ip6tset")
for a in ["2001:20fe:23:41ed::1", "2001:20fe:23:41ee::1", "abac:adab:ad00:42f::1",
          "abac:adab:ad00:42f:face:f:a:beef", "abac:adab:ad00:42f::2"]:
    for t in ("A", "TXT"):
        Q.append("%s.v6t.example %s" % (nib(v6full(a)), t))
# 6to4 and v4-mapped forms reach IPv4 datasets
for a in ["2002:0102:0304::1", "::ffff:1.2.3.4", "::ffff:9.9.9.9"]:
    Q.append("%s.bl.example A" % nib(v6full(a)))

# ---- combined
w("c.combined", "$NS 1w ns1.example.net ns2.example.net\n"
  "$SOA 1w ns1.example.net admin.example.net 0 2h 2h 1w 1h\n"
  "$TTL 1h\n$1 common\n"
  "$DATASET ip4set:proxy proxies @\n:2:Open proxy $ $1\n127.0.0.2\n127.0.0.10\n"
  "$DATASET ip4set:relay relays @\n$TTL 2h\n:3:Open relay $\n127.0.0.2\n127.0.2.10\n"
  "$DATASET ip4set:multihop-relay multihop\n:4:Multihop $\n127.0.0.2\n127.0.9.12\n"
  "$DATASET dnset names\n:5:name $\nspam.com\n"
  "$DATASET generic:common proxies relays multihop @\n@ A 127.0.0.8\nwww A 127.0.0.8\n"
  "@ MX 10 mx.example.net\n")
ZONES.append("comb.example:combined:c.combined")
for sub in ["", "proxies.", "relays.", "multihop.", "names.", "other."]:
    for ip in ["127.0.0.2", "127.0.0.10", "127.0.2.10", "127.0.9.12", "1.1.1.1"]:
        for t in ("A", "TXT"):
            Q.append("%s.%scomb.example %s" % (rev(ip), sub, t))
    for t in ("A", "MX", "ANY", "SOA", "NS", "TXT"):
        Q.append("%scomb.example %s" % (sub, t))
        Q.append("www.%scomb.example %s" % (sub, t))
Q += ["spam.com.names.comb.example A", "spam.com.names.comb.example TXT"]

# ---- zone without SOA/NS, and a zone of two datasets
w("nosoa.ip4set", "1.1.1.1\n2.2.2.0/24 :3:x $\n")
ZONES.append("nosoa.example:ip4set:nosoa.ip4set")
for n in ["nosoa.example", "1.1.1.1.nosoa.example", "2.2.2.2.nosoa.example"]:
    for t in ("A", "TXT", "SOA", "NS", "ANY", "MX"):
        Q.append("%s %s" % (n, t))
ZONES.append("multi.example:ip4set:nosoa.ip4set")
ZONES.append("multi.example:ip4trie:tr.ip4trie")
for ip in ["1.1.1.1", "10.1.1.1", "2.2.2.9", "9.9.9.9"]:
    ipq("multi.example", ip, ("A", "TXT", "ANY"))
Q += ["multi.example SOA", "multi.example NS"]

# ---- acl: the client's address decides (sources 127.0.0.2..6)
w("z.acl", "127.0.0.2 :refuse\n127.0.0.3 :empty\n127.0.0.4 :2:always $\n"
  "127.0.0.5 :ignore\n127.0.0.6 :pass\n127.0.0.0/30 :pass\n")
ZONES.append("acl.example:ip4set:nosoa.ip4set")
ZONES.append("acl.example:generic:bl.generic")
ZONES.append("acl.example:acl:z.acl")
for src in ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.6"]:
    for n, t in [("1.1.1.1.acl.example", "A"), ("1.1.1.1.acl.example", "TXT"),
                 ("9.9.9.9.acl.example", "A"), ("acl.example", "A"),
                 ("www.acl.example", "A")]:
        Q.append("%s %s +src=%s" % (n, t, src))

# ---- out of zone, odd case, EDNS
for n in ["example", "other.example", "xbl.example", "bl.example.org", ".",
          "com", "4.3.2.1.bl.example.net", "4.3.2.1.blexample"]:
    for t in ("A", "SOA", "TXT"):
        Q.append("%s %s" % (n, t))
for ip in singles[:40]:
    Q.append("%s.%s A" % (oddcase(rev(ip) + ".bl.example"), ""))
for ip in singles[:40]:
    Q.append("%s.bl.example TXT +edns !allow=edns-opt" % rev(ip))
Q.append("bl.example SOA +edns !allow=edns-opt")
Q.append("9.9.9.9.bl.example A +edns !allow=edns-opt")
Q.append("4.3.2.1.bl.example A +edns=two !allow=formerr")
Q.append("4.3.2.1.bl.example A +edns=bad !allow=formerr")

# an answer too big for 512 bytes: rbldnsd drops RRs, rbld sets TC
big = "".join("50.0.0.1 :%d:%s\n" % (i % 250 + 1, "x%02d" % i * 20) for i in range(20))
w("big.ip4set", SOA % 3 + NS + big)
ZONES.append("big.example:ip4set:big.ip4set")
Q.append("1.0.0.50.big.example TXT !allow=tc")
Q.append("1.0.0.50.big.example A")

Q = [q.replace("..", ".") for q in Q]
with open(os.path.join(D, "zones"), "w") as f:
    f.write("\n".join(ZONES) + "\n")
with open(os.path.join(D, "queries"), "w") as f:
    f.write("\n".join(Q) + "\n")
print(len(Q))
