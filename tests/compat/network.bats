#!/usr/bin/env bats
# Networking through the real docker CLI (issue 5): bridges, user networks
# with embedded DNS, published ports, host/none/container modes, restart.
# The daemon runs in its own network namespace (berth_start); "the host" is
# that namespace, and the outside host is one more namespace the test makes.

load ../helpers
bats_require_minimum_version 1.5.0

setup_file() {
	command -v docker >/dev/null || return 0
	berth_start
	busybox_image busybox:latest
}
teardown_file() {
	if [ -n "${BERTH_SOCK:-}" ]; then
		docker ps -aq 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1 || true
		docker network prune -f >/dev/null 2>&1 || true
	fi
	[ -n "${OUTSIDE_PID:-}" ] && kill "$OUTSIDE_PID" 2>/dev/null
	berth_stop
}
setup() { require_docker_cli; }
teardown() {
	docker ps -aq 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1 || true
	docker network prune -f >/dev/null 2>&1 || true
	if [ -n "${OUTSIDE_PID:-}" ]; then
		kill "$OUTSIDE_PID" 2>/dev/null
		wait "$OUTSIDE_PID" 2>/dev/null || true
		OUTSIDE_PID=
	fi
	berth_netns ip link del out0 2>/dev/null || true
}

# web NAME [docker run flags...]: a busybox httpd serving its /etc.
web() {
	local name=$1
	shift
	docker run -d --name "$name" "$@" busybox httpd -f -p 80 -h /etc >/dev/null
}

# fetch_until URL [docker run flags...]: wget from a fresh container, retried
# while the server starts (bounded); prints the body.
fetch_until() {
	local url=$1 i
	shift
	for i in $(seq 1 50); do
		docker run --rm "$@" busybox timeout 5 wget -qO- "$url" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# host_fetch URL: wget from the daemon's namespace (the containers' host).
host_fetch() {
	local i
	for i in $(seq 1 50); do
		berth_netns curl -sf -m 5 "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

@test "default bridge: eth0 on berth0 with the first address, gateway route, inspect" {
	run docker run --rm busybox sh -c 'ip -4 -o addr show eth0; ip route'
	[ "$status" -eq 0 ]
	[[ "$output" == *"inet 172.17.0.2/16"* ]]
	[[ "$output" == *"default via 172.17.0.1 dev eth0"* ]]
	web w1
	[ "$(docker inspect -f '{{.NetworkSettings.IPAddress}} {{.NetworkSettings.Gateway}} {{.NetworkSettings.IPPrefixLen}}' w1)" = "172.17.0.2 172.17.0.1 16" ]
	[ "$(docker inspect -f '{{.NetworkSettings.Networks.bridge.IPAddress}}' w1)" = 172.17.0.2 ]
	[[ "$(docker inspect -f '{{.NetworkSettings.SandboxKey}}' w1)" == "$BERTH_ROOT/run/netns/"* ]]
	run docker network inspect -f '{{range .Containers}}{{.Name}} {{.IPv4Address}}{{end}}' bridge
	[ "$output" = "w1 172.17.0.2/16" ]
	# the host (the daemon's namespace) reaches the container directly
	[ "$(host_fetch http://172.17.0.2/hostname)" = "$(docker inspect -f '{{.Config.Hostname}}' w1)" ]
	# /etc/hosts names the container's own address, as dockerd writes it
	run docker exec w1 cat /etc/hosts
	[[ "$output" == *"172.17.0.2	$(docker inspect -f '{{.Config.Hostname}}' w1)"* ]]
	docker rm -f w1
	# stopped: the address is given back
	run docker network inspect -f '{{len .Containers}}' bridge
	[ "$output" = 0 ]
}

@test "user network: containers reach each other by name and alias through 127.0.0.11" {
	docker network create --subnet 10.77.0.0/24 --gateway 10.77.0.1 app
	web db --network app --network-alias database
	run docker inspect -f '{{.NetworkSettings.Networks.app.IPAddress}}' db
	[ "$output" = 10.77.0.2 ]
	run fetch_until http://db/hostname --network app
	[ "$status" -eq 0 ]
	[ "$output" = "$(docker inspect -f '{{.Config.Hostname}}' db)" ]
	run fetch_until http://database/hostname --network app
	[ "$output" = "$(docker inspect -f '{{.Config.Hostname}}' db)" ]
	run docker run --rm --network app busybox sh -c 'cat /etc/resolv.conf; nslookup db; nslookup 10.77.0.2'
	[[ "$output" == *"nameserver 127.0.0.11"* ]]
	[[ "$output" == *"Address: 10.77.0.2"* ]]
	[[ "$output" == *"name = db.app"* ]]
	# names are per network: the default bridge does not resolve them
	run docker run --rm busybox nslookup db 127.0.0.11
	[ "$status" -ne 0 ]
}

@test "--ip, --ip-range, and an address in use is refused" {
	docker network create --subnet 10.78.0.0/16 --ip-range 10.78.5.0/24 ranged
	web ra --network ranged
	[[ "$(docker inspect -f '{{.NetworkSettings.Networks.ranged.IPAddress}}' ra)" == 10.78.5.* ]]
	web rb --network ranged --ip 10.78.9.9
	[ "$(docker inspect -f '{{.NetworkSettings.Networks.ranged.IPAddress}}' rb)" = 10.78.9.9 ]
	run docker run -d --network ranged --ip 10.78.9.9 busybox sleep 5
	[ "$status" -ne 0 ]
	[[ "$output" == *"Address already in use"* ]]
	run docker run --rm --ip 10.78.9.10 busybox true
	[ "$status" -ne 0 ]
	[[ "$output" == *"user specified IP address is supported on user defined networks only"* ]]
}

@test "-p 127.0.0.1:PORT:80 answers on the host's loopback and from other containers; docker port, ps" {
	web pub -p 127.0.0.1:8080:80 -p 8081:80
	run host_fetch http://127.0.0.1:8080/hostname
	[ "$status" -eq 0 ]
	[ "$output" = "$(docker inspect -f '{{.Config.Hostname}}' pub)" ]
	run host_fetch http://127.0.0.1:8081/hostname
	[ "$output" = "$(docker inspect -f '{{.Config.Hostname}}' pub)" ]
	# another container, through the published port on the gateway
	run fetch_until http://172.17.0.1:8081/hostname
	[ "$output" = "$(docker inspect -f '{{.Config.Hostname}}' pub)" ]
	run docker port pub
	[[ "$output" == *"80/tcp -> 127.0.0.1:8080"* ]]
	[[ "$output" == *"80/tcp -> 0.0.0.0:8081"* ]]
	run docker ps --format '{{.Ports}}' --filter name=pub
	[[ "$output" == *"127.0.0.1:8080->80/tcp"* && "$output" == *"0.0.0.0:8081->80/tcp"* ]]
	# a second container cannot take the same host port
	run docker run -d -p 127.0.0.1:8080:80 busybox sleep 5
	[ "$status" -ne 0 ]
	[[ "$output" == *"port is already allocated"* ]]
	docker rm -f pub
	# the mapping is gone with the container
	run berth_netns nft list map ip berth tcp_any
	[[ "$output" != *8081* ]]
	run berth_netns curl -sf -m 2 http://127.0.0.1:8081/hostname
	[ "$status" -ne 0 ]
}

@test "a removal answers with the ports released: rm -f, stop then rm, run --rm; the port is free at once" {
	local round
	for round in 1 2 3; do
		web gone -p 127.0.0.1:8090:80
		docker rm -f gone >/dev/null
		run berth_netns nft list map ip berth tcp_any
		[[ "$output" != *8090* ]]
		web gone -p 127.0.0.1:8090:80
		docker stop -t 0 gone >/dev/null
		docker rm gone >/dev/null
		run berth_netns nft list map ip berth tcp_any
		[[ "$output" != *8090* ]]
		docker run --rm -p 127.0.0.1:8090:80 busybox true
		run berth_netns nft list map ip berth tcp_any
		[[ "$output" != *8090* ]]
	done
	# and the port is at once free for the next container
	web again -p 127.0.0.1:8090:80
	run host_fetch http://127.0.0.1:8090/hostname
	[ "$status" -eq 0 ]
}

@test "-P publishes exposed ports on ephemeral host ports; a host range; udp" {
	docker run -d --name eph --expose 80 -P busybox httpd -f -p 80 -h /etc
	port=$(docker port eph 80/tcp | head -1 | sed 's/.*://')
	[ "$port" -ge 1024 ]
	run host_fetch "http://127.0.0.1:$port/hostname"
	[ "$output" = "$(docker inspect -f '{{.Config.Hostname}}' eph)" ]
	web ranged -p 127.0.0.1:9100-9102:80
	port=$(docker port ranged 80/tcp | sed 's/.*://')
	[ "$port" -ge 9100 ] && [ "$port" -le 9102 ]
	# busybox has no UDP server: the container's own count of datagrams
	# to a closed port shows that the published one reached it
	docker run -d --name udp -p 127.0.0.1:5353:53/udp busybox sleep 60
	[ "$(docker port udp 53/udp)" = "127.0.0.1:5353" ]
	noports() { docker exec udp awk '/^Udp: [0-9]/ {print $3}' /proc/net/snmp; }
	before=$(noports)
	echo hello-udp | berth_netns socat -t 0.5 - UDP:127.0.0.1:5353 2>/dev/null || true
	[ "$(noports)" -gt "$before" ]
}

# outside_host: a namespace behind a veth pair at 198.51.100.2 serving
# "outside" over HTTP; the daemon's namespace is 198.51.100.1.
outside_host() {
	mkdir -p "$BERTH_ROOT/outside-www"
	echo outside >"$BERTH_ROOT/outside-www/index.html"
	unshare --net busybox httpd -f -p 80 -h "$BERTH_ROOT/outside-www" 3>&- &
	OUTSIDE_PID=$!
	# until unshare has run, the PID is still in our namespace
	local i
	for i in $(seq 1 100); do
		[ "$(readlink /proc/$OUTSIDE_PID/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break
		sleep 0.01
	done
	[ "$(readlink /proc/$OUTSIDE_PID/ns/net)" != "$(readlink /proc/self/ns/net)" ]
	berth_netns ip link add out0 type veth peer name out1
	berth_netns ip link set out1 netns "$OUTSIDE_PID"
	berth_netns ip addr add 198.51.100.1/24 dev out0
	berth_netns ip link set out0 up
	nsenter --net=/proc/$OUTSIDE_PID/ns/net ip addr add 198.51.100.2/24 dev out1
	nsenter --net=/proc/$OUTSIDE_PID/ns/net ip link set out1 up
	nsenter --net=/proc/$OUTSIDE_PID/ns/net ip link set lo up
}

@test "a bridge network reaches an outside host (NAT); an --internal one does not" {
	outside_host
	run fetch_until http://198.51.100.2/
	[ "$status" -eq 0 ]
	[ "$output" = outside ]
	docker network create out-ok
	run fetch_until http://198.51.100.2/ --network out-ok
	[ "$output" = outside ]
	docker network create --internal sealed
	run docker run --rm --network sealed busybox timeout 5 wget -qO- http://198.51.100.2/
	[ "$status" -ne 0 ]
	[ "$(docker network inspect -f '{{.Internal}}' sealed)" = true ]
}

@test "connect and disconnect a running container; disconnect removes name resolution" {
	docker network create front
	web api
	docker network connect --alias api-alias front api
	run docker inspect -f '{{index .NetworkSettings.Networks "front" | printf "%v"}}' api
	run docker inspect -f '{{.NetworkSettings.Networks.front.IPAddress}}' api
	[[ "$output" == 172.* ]]
	run fetch_until http://api-alias/hostname --network front
	[ "$output" = "$(docker inspect -f '{{.Config.Hostname}}' api)" ]
	run docker exec api ip -o link show eth1
	[ "$status" -eq 0 ]
	docker network disconnect front api
	run docker run --rm --network front busybox nslookup api 127.0.0.11
	[ "$status" -ne 0 ]
	run docker inspect -f '{{len .NetworkSettings.Networks}}' api
	[ "$output" = 1 ]
	run docker exec api ip -o link show eth1
	[ "$status" -ne 0 ]
}

@test "--network none, host and container:X" {
	run docker run --rm --network none busybox ip -o link
	[ "$(grep -c . <<<"$output")" -eq 1 ]
	[[ "$output" == *"lo:"* ]]
	run docker run --rm --network host busybox ip -o link show berth0
	[ "$status" -eq 0 ]
	web shared
	ip=$(docker inspect -f '{{.NetworkSettings.IPAddress}}' shared)
	run docker run --rm --network container:shared busybox sh -c "ip -4 -o addr show eth0; wget -qO- http://127.0.0.1/hostname"
	[[ "$output" == *"inet $ip/16"* ]]
	[[ "$output" == *"$(docker inspect -f '{{.Config.Hostname}}' shared)"* ]]
}

@test "--link, --add-host, --dns on the default bridge write /etc/hosts and resolv.conf" {
	web target
	ip=$(docker inspect -f '{{.NetworkSettings.IPAddress}}' target)
	run docker run --rm --link target:tg --add-host gw.example:host-gateway --add-host x.example:10.1.2.3 \
		--dns 192.0.2.53 --dns-search example.org busybox sh -c 'cat /etc/hosts /etc/resolv.conf'
	[[ "$output" == *"$ip	tg"* ]]
	[[ "$output" == *"172.17.0.1	gw.example"* ]]
	[[ "$output" == *"10.1.2.3	x.example"* ]]
	[[ "$output" == *"nameserver 192.0.2.53"* ]]
	[[ "$output" == *"search example.org"* ]]
}

@test "network API errors: duplicate, overlap, builtin, active endpoints, unknown" {
	docker network create dup --subnet 10.80.0.0/24
	run docker network create dup
	[ "$status" -ne 0 ]
	[[ "$output" == *"network with name dup already exists"* ]]
	run docker network create --subnet 10.80.0.128/25 overlap
	[[ "$output" == *"Pool overlaps with other one on this address space"* ]]
	run docker network rm bridge
	[[ "$output" == *"bridge is a pre-defined network and cannot be removed"* ]]
	docker run -d --name busy --network dup busybox sleep 60
	run docker network rm dup
	[[ "$output" == *"has active endpoints"* ]]
	run api POST /containers/create -H 'Content-Type: application/json' \
		-d '{"Image":"busybox","HostConfig":{"NetworkMode":"nosuch"}}'
	api_split
	[ "$status" = 404 ]
	[ "$(jq -r .message <<<"$body")" = "network nosuch not found" ]
	run docker network inspect nosuch
	[ "$status" -ne 0 ]
	docker rm -f busy
	docker network rm dup
}

@test "network events, ls filters, prune; the bridge device and rules go with the network" {
	since=$(date +%s)
	docker network create --label team=a evnet
	br=br-$(docker network inspect -f '{{.Id}}' evnet | cut -c1-12)
	berth_netns ip link show "$br"
	run berth_netns nft list chain ip berth postrouting
	[[ "$output" == *"$br"* ]]
	docker run --rm --network evnet busybox true
	run docker network ls --filter label=team=a --format '{{.Name}}'
	[ "$output" = evnet ]
	run docker network ls --filter type=custom --format '{{.Name}}'
	[ "$output" = evnet ]
	run docker network prune -f
	[[ "$output" == *evnet* ]]
	run berth_netns ip link show "$br"
	[ "$status" -ne 0 ]
	run berth_netns nft list chain ip berth postrouting
	[[ "$output" != *"$br"* ]]
	run docker events --since "$since" --until "$(($(date +%s) + 1))" --filter type=network --format '{{.Action}} {{.Actor.Attributes.name}}'
	[[ "$output" == *"create evnet"* ]]
	[[ "$output" == *"connect evnet"* ]]
	[[ "$output" == *"disconnect evnet"* ]]
	[[ "$output" == *"destroy evnet"* ]]
}

@test "kill -9 berthd and restart: the published port and the names still answer" {
	docker network create keep
	web kept --network keep -p 127.0.0.1:8088:80
	run host_fetch http://127.0.0.1:8088/hostname
	[ "$output" = "$(docker inspect -f '{{.Config.Hostname}}' kept)" ]
	kill -9 "$BERTHD_PID"
	wait "$BERTHD_PID" 2>/dev/null || true
	"$BERTHD" --data-root "$BERTH_ROOT/data" --exec-root "$BERTH_ROOT/run" \
		--pidfile "$BERTH_ROOT/berthd.pid" -H "unix://$BERTH_SOCK" >>"$BERTH_ROOT/berthd.log" 2>&1 3>&- &
	BERTHD_PID=$!
	# a loaded machine may take more than one 5 s wait
	berth_wait_socket "$BERTH_SOCK" || berth_wait_socket "$BERTH_SOCK" || berth_wait_socket "$BERTH_SOCK"
	run host_fetch http://127.0.0.1:8088/hostname
	[ "$output" = "$(docker inspect -f '{{.Config.Hostname}}' kept)" ]
	run fetch_until http://kept/hostname --network keep
	[ "$output" = "$(docker inspect -f '{{.Config.Hostname}}' kept)" ]
	# the address stays taken: a new container gets the next one
	web next --network keep
	[ "$(docker inspect -f '{{.NetworkSettings.Networks.keep.IPAddress}}' next)" != \
	  "$(docker inspect -f '{{.NetworkSettings.Networks.keep.IPAddress}}' kept)" ]
	run docker port kept
	[ "$output" = "80/tcp -> 127.0.0.1:8088" ]
}
