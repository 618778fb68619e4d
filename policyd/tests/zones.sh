# policyd/tests/zones.sh - the test DNS lists (rbldnsd ip4set/ip6trie
# data), named as in conf/policyd/rules so the default rules run on them.
# Sourced; writes into $D and sets ZONES to the zone specs.
cat > "$D/zen" <<EOZ
\$SOA 0 zen.spamhaus.org. hostmaster.example. 1 3600 600 86400 60
:127.0.0.2:Listed at zen: \$
192.0.2.1
192.0.2.2
192.0.2.3
192.0.2.4
192.0.2.5
192.0.2.50 :127.0.0.4:
192.0.2.60 :127.0.0.1:
192.0.2.61 :127.255.255.252:
192.0.2.62 :10.0.0.2:
192.0.2.63 :127.0.0.20:
198.18.0.0/24 :127.255.255.254:
EOZ
cat > "$D/zen6" <<EOZ
2001:db8::25
EOZ
cat > "$D/spamcop" <<EOZ
:127.0.0.2:Listed at spamcop
192.0.2.50
192.0.2.51
EOZ
cat > "$D/barracuda" <<EOZ
:127.0.0.2:Listed at barracuda
192.0.2.51
EOZ
cat > "$D/imgate" <<EOZ
:127.0.0.2:harvested
192.0.2.99
EOZ
cat > "$D/dnswl" <<EOZ
:127.0.10.1:
192.0.2.98
EOZ
ZONES="zen.spamhaus.org:ip4set:$D/zen zen.spamhaus.org:ip6trie:$D/zen6
bl.spamcop.net:ip4set:$D/spamcop b.barracudacentral.org:ip4set:$D/barracuda
wl.local:ip4set:$D/imgate list.dnswl.org:ip4set:$D/dnswl"
