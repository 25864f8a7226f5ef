#!/usr/bin/env bats
# berth network / berth port and the /networks API against a private berthd
# in its own network namespace; daemon options of the default bridge; what a
# stopped berthd leaves behind (nothing).

load ../helpers
bats_require_minimum_version 1.5.0

setup_file() {
	berth_start
	busybox_image busybox:latest
}
teardown_file() {
	"$BERTH" rm -f $("$BERTH" ps -aq 2>/dev/null) >/dev/null 2>&1 || true
	berth_stop
}
setup() {
	T=$(mktemp -d /tmp/berth-net.XXXXXX)
}
teardown() {
	"$BERTH" rm -f $("$BERTH" ps -aq 2>/dev/null) >/dev/null 2>&1 || true
	"$BERTH" network prune -f >/dev/null 2>&1 || true
	if [ -n "${PID2:-}" ]; then
		kill "$PID2" 2>/dev/null
		wait "$PID2" 2>/dev/null || true
		PID2=
	fi
	berth_cleanup_root "$T"
}

@test "berth network create, ls, inspect, rm" {
	run "$BERTH" network create --subnet 10.90.0.0/24 --gateway 10.90.0.254 --label k=v -o com.docker.network.driver.mtu=1400 mynet
	[ "$status" -eq 0 ]
	[ ${#output} -eq 64 ]
	id=$output
	run "$BERTH" network ls
	[ "${lines[0]}" = "NETWORK ID     NAME      DRIVER    SCOPE" ]
	[[ "$output" == *"${id:0:12}   mynet     bridge    local"* ]]
	[[ "$output" == *"bridge    bridge    local"* && "$output" == *"host      host      local"* && "$output" == *"none      null      local"* ]]
	run "$BERTH" network inspect -f '{{.Name}} {{(index .IPAM.Config 0).Subnet}} {{(index .IPAM.Config 0).Gateway}} {{.Labels.k}}' mynet
	[ "$output" = "mynet 10.90.0.0/24 10.90.0.254 v" ]
	# the bridge has the gateway address and the MTU asked for
	run berth_netns ip -o -4 addr show "br-${id:0:12}"
	[[ "$output" == *"inet 10.90.0.254/24"* ]]
	run berth_netns ip -o link show "br-${id:0:12}"
	[[ "$output" == *" mtu 1400 "* ]]
	run "$BERTH" network rm mynet
	[ "$output" = mynet ]
	run berth_netns ip link show "br-${id:0:12}"
	[ "$status" -ne 0 ]
	run "$BERTH" network rm mynet
	[ "$status" -eq 1 ]
	[ "$output" = "Error response from daemon: network mynet not found" ]
}

@test "berth network connect/disconnect and berth port" {
	"$BERTH" network create side >/dev/null
	"$BERTH" run -d --name p1 -p 127.0.0.1:7070:80 -p 7071:81/udp busybox sleep 60 >/dev/null
	run "$BERTH" port p1
	[ "${lines[0]}" = "80/tcp -> 127.0.0.1:7070" ]
	[ "${lines[1]}" = "81/udp -> 0.0.0.0:7071" ]
	run "$BERTH" port p1 80
	[ "$output" = "127.0.0.1:7070" ]
	run "$BERTH" port p1 82
	[ "$status" -eq 1 ]
	[[ "$output" == *"No public port '82/tcp' published for p1"* ]]
	"$BERTH" network connect --alias other side p1
	run "$BERTH" inspect -f '{{json .NetworkSettings.Networks.side.Aliases}}' p1
	[ "$output" = '["other"]' ]
	run "$BERTH" network inspect -f '{{range .Containers}}{{.Name}}{{end}}' side
	[ "$output" = p1 ]
	run "$BERTH" exec p1 ip -o -4 addr show eth1
	[[ "$output" == *"inet 172."* ]]
	run "$BERTH" network connect side p1
	[ "$status" -ne 0 ]
	[[ "$output" == *"already exists in network side"* ]]
	"$BERTH" network disconnect side p1
	run "$BERTH" network inspect -f '{{len .Containers}}' side
	[ "$output" = 0 ]
	run "$BERTH" network disconnect side p1
	[ "$status" -ne 0 ]
	# a stopped container is connected in its record, and gets the network at start
	"$BERTH" create --name p2 busybox sleep 60 >/dev/null
	"$BERTH" network connect side p2
	"$BERTH" start p2
	run "$BERTH" exec p2 ip -o -4 addr
	[[ "$output" == *eth0* && "$output" == *eth1* ]]
}

@test "API: network inspect fields, container NetworkSettings, list filters, prune report" {
	run api POST /networks/create -H 'Content-Type: application/json' -d '{"Name":"apinet","Internal":true,"Labels":{"a":"b"}}'
	api_split
	[ "$status" = 201 ]
	[ "$(jq -r '.Warning' <<<"$body")" = "" ]
	run api GET /networks/apinet
	api_split
	[ "$(jq -c '[.Name, .Driver, .Scope, .Internal, .EnableIPv6, .IPAM.Driver, (.Containers|length)]' <<<"$body")" = '["apinet","bridge","local",true,false,"default",0]' ]
	"$BERTH" run -d --name ns1 --network apinet busybox sleep 60 >/dev/null
	run api GET /containers/ns1/json
	api_split
	[ "$(jq -r '.NetworkSettings.Networks.apinet.NetworkID' <<<"$body")" = "$("$BERTH" network inspect -f '{{.Id}}' apinet)" ]
	[ "$(jq -r '.NetworkSettings.Networks.apinet.MacAddress' <<<"$body")" != "" ]
	[ "$(jq -r '.NetworkSettings.Networks.apinet.DNSNames[0]' <<<"$body")" = ns1 ]
	# --internal: no gateway route
	run "$BERTH" exec ns1 ip route
	[[ "$output" != *default* ]]
	run api GET '/networks?filters=%7B%22label%22%3A%5B%22a%3Db%22%5D%7D'
	api_split
	[ "$(jq -r '.[].Name' <<<"$body")" = apinet ]
	run api GET '/networks?filters=%7B%22type%22%3A%5B%22bogus%22%5D%7D'
	api_split
	[ "$status" = 400 ]
	run api DELETE /networks/apinet
	api_split
	[ "$status" = 403 ]
	"$BERTH" rm -f ns1 >/dev/null
	run api POST /networks/prune
	api_split
	[ "$status" = 200 ]
	[ "$(jq -c .NetworksDeleted <<<"$body")" = '["apinet"]' ]
}

# second_daemon FLAGS...: a berthd on $T in a namespace of its own ($T/netns).
second_daemon() {
	touch "$T/netns"
	unshare --net="$T/netns" ip link set lo up
	BERTH_NETNS="$T/netns" "$BERTHD" --data-root "$T/data" --exec-root "$T/run" \
		--pidfile "$T/pid" -H "unix://$T/sock" "$@" >"$T/log" 2>&1 3>&- &
	PID2=$!
	berth_wait_socket "$T/sock" || { cat "$T/log" >&2; return 1; }
}

@test "daemon options: bridge name, bip, default-address-pools; a clean stop leaves no device or table" {
	cat >"$T/daemon.json" <<-'EOF'
	{"bridge": "tbr0", "bip": "10.123.0.1/24", "default-address-pools": [{"base": "10.200.0.0/16", "size": 24}]}
	EOF
	second_daemon --config-file "$T/daemon.json"
	run nsenter --net="$T/netns" ip -o -4 addr show tbr0
	[[ "$output" == *"inet 10.123.0.1/24"* ]]
	run env DOCKER_HOST="unix://$T/sock" "$BERTH" network create pooled
	run env DOCKER_HOST="unix://$T/sock" "$BERTH" network inspect -f '{{(index .IPAM.Config 0).Subnet}}' pooled
	[ "$output" = 10.200.0.0/24 ]
	run env DOCKER_HOST="unix://$T/sock" "$BERTH" network inspect -f '{{(index .IPAM.Config 0).Subnet}}' bridge
	[ "$output" = 10.123.0.0/24 ]
	run nsenter --net="$T/netns" nft list table ip berth
	[ "$status" -eq 0 ]
	kill "$PID2"
	wait "$PID2" || true
	PID2=
	run nsenter --net="$T/netns" nft list tables
	[[ "$output" != *berth* ]]
	run nsenter --net="$T/netns" ip -o link show type bridge
	[ -z "$output" ]
}

@test "--bridge none --iptables=false: no default bridge, no firewall table" {
	second_daemon --bridge none --iptables=false
	run env DOCKER_HOST="unix://$T/sock" "$BERTH" network ls --format '{{.Name}}'
	[ "$output" = $'host\nnone' ]
	run nsenter --net="$T/netns" nft list tables
	[ -z "$output" ]
	run nsenter --net="$T/netns" ip -o link show type bridge
	[ -z "$output" ]
}
