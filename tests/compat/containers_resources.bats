#!/usr/bin/env bats
# stats, update and container prune with the real docker CLI (issue 4).

load ../helpers
bats_require_minimum_version 1.5.0

setup_file() { compat_setup_file; }
teardown_file() { compat_teardown_file; }
setup() { require_docker_cli; }
teardown() { docker rm -f $(docker ps -aq) >/dev/null 2>&1 || true; }

# The cgroup file of a running container, v1 or v2.
cgroup_file() { # ID CONTROLLER V1FILE V2FILE
	local pid rel
	pid=$(docker inspect -f '{{.State.Pid}}' "$1")
	if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
		rel=$(awk -F: '$1 == 0 {print $3}' "/proc/$pid/cgroup")
		echo "/sys/fs/cgroup$rel/$4"
	else
		rel=$(awk -F: -v c="$2" '$2 ~ "(^|,)" c "(,|$)" {print $2 ":" $3}' "/proc/$pid/cgroup")
		echo "/sys/fs/cgroup/${rel%%:*}${rel#*:}/$3"
	fi
}

@test "docker stats --no-stream shows the container's limit and pids" {
	docker run -d --name st1 -m 64m busybox sh -c 'sleep 1000 & sleep 1000 & wait' >/dev/null
	run docker stats --no-stream --format '{{.Name}} {{.MemUsage}} {{.PIDs}}' st1
	[ "$status" -eq 0 ]
	[[ "$output" == "st1 "*" / 64MiB 3" ]]
	run docker stats --no-stream
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "CONTAINER ID"*"NAME"*"CPU %"*"MEM USAGE / LIMIT"*"PIDS" ]]
	[[ "$output" == *st1* ]]
}

@test "stats counts the CPU a busy container uses" {
	docker run -d --name busy busybox sh -c 'while :; do :; done' >/dev/null
	run api GET "/containers/busy/stats?stream=false"
	[ "${lines[-1]}" = 200 ]
	body=$(sed '$d' <<<"$output")
	delta=$(jq '.cpu_stats.cpu_usage.total_usage - .precpu_stats.cpu_usage.total_usage' <<<"$body")
	[ "$delta" -gt 0 ]
	[ "$(jq '.cpu_stats.online_cpus' <<<"$body")" -ge 1 ]
	[ "$(jq -r '.preread' <<<"$body")" != "0001-01-01T00:00:00Z" ]
}

@test "stats of a stopped container is one empty sample; of a missing one 404" {
	docker create --name idle busybox true >/dev/null
	run api GET "/containers/idle/stats?stream=false"
	[ "${lines[-1]}" = 200 ]
	[ "$(sed '$d' <<<"$output" | jq -r '.read, .name, .pids_stats')" = "0001-01-01T00:00:00Z
/idle
{}" ]
	run docker stats --no-stream nope
	[ "$status" -eq 1 ]
	[ "$output" = "Error response from daemon: No such container: nope" ]
}

@test "stats streams one sample a second until the client leaves" {
	docker run -d --name streamed busybox sleep 1000 >/dev/null
	run timeout 3 curl -sN --unix-socket "$BERTH_SOCK" http://berth/containers/streamed/stats
	n=$(grep -c '"read"' <<<"$output")
	[ "$n" -ge 2 ] && [ "$n" -le 4 ]
	# the daemon is still fine after the client went away
	run docker stats --no-stream --format '{{.Name}}' streamed
	[ "$output" = streamed ]
}

@test "docker update changes a running container's cgroup and record" {
	docker run -d --name up1 -m 32m busybox sleep 1000 >/dev/null
	run docker update -m 64m --memory-swap 128m --pids-limit 50 --cpus 0.5 --restart on-failure:2 up1
	[ "$status" -eq 0 ]
	[ "$output" = up1 ]
	[ "$(docker inspect -f '{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{.HostConfig.NanoCpus}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}' up1)" = "67108864 50 500000000 on-failure:2" ]
	[ "$(cat "$(cgroup_file up1 memory memory.limit_in_bytes memory.max)")" = 67108864 ]
	[ "$(cat "$(cgroup_file up1 pids pids.max pids.max)")" = 50 ]
	run docker events --since 0 --until "$(($(date +%s) + 1))" --filter event=update --format '{{.Actor.Attributes.name}}'
	[ "$output" = up1 ]
}

@test "docker update errors as dockerd's" {
	docker run -d --name up2 --cpus 1 busybox sleep 1000 >/dev/null
	run docker update --cpu-period 100000 up2
	[ "$status" -eq 1 ]
	[[ "$output" == *"Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set"* ]]
	run docker update --restart always nope
	[ "$status" -eq 1 ]
	[[ "$output" == *"No such container: nope"* ]]
	docker run -d --rm --name up3 busybox sleep 1000 >/dev/null
	run docker update --restart always up3
	[ "$status" -eq 1 ]
	[[ "$output" == *"Restart policy cannot be updated because AutoRemove is enabled"* ]]
	# nothing changed
	[ "$(docker inspect -f '{{.HostConfig.CpuPeriod}}' up2)" = 0 ]
}

@test "docker update of a stopped container applies at its next start" {
	docker create --name up4 busybox sleep 1000 >/dev/null
	docker update -m 48m up4
	docker start up4
	[ "$(cat "$(cgroup_file up4 memory memory.limit_in_bytes memory.max)")" = 50331648 ]
}

@test "docker container prune removes stopped containers matching the filters" {
	pr1=$(docker create --name pr1 --label keep=no busybox true)
	docker start pr1 >/dev/null
	docker run --name pr2 --label keep=yes busybox true
	docker run --name pr3 busybox sh -c 'echo 12345 > /f'
	docker run -d --name pr4 busybox sleep 1000 >/dev/null
	run docker container prune -f --filter label=keep=no
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "Deleted Containers:" ]
	[ "${lines[1]}" = "$pr1" ]
	[ "${#lines[@]}" -eq 3 ]
	run docker container prune -f --filter 'label!=keep=yes'
	[ "$status" -eq 0 ]
	[[ "$output" == *"Total reclaimed space: 6B"* ]]
	[ "$(docker ps -a --format '{{.Names}}' | sort | tr '\n' ' ')" = "pr2 pr4 " ]
	run docker events --since 0 --until "$(($(date +%s) + 1))" --filter event=prune --format '{{.Type}} {{.Action}}'
	[[ "$output" == *"container prune"* ]]
}

@test "ps -s and inspect --size: SizeRw is the container's writes, SizeRootFs adds its image" {
	docker run --name sized busybox sh -c 'echo 12345 > /f'
	[ "$(docker ps -a -s --filter name=sized --format '{{.Size}}')" = "6B (virtual 1.98MB)" ] ||
		[[ "$(docker ps -a -s --filter name=sized --format '{{.Size}}')" == "6B (virtual "* ]]
	rw=$(docker inspect --size -f '{{.SizeRw}}' sized)
	rootfs=$(docker inspect --size -f '{{.SizeRootFs}}' sized)
	image=$(docker image inspect -f '{{.Size}}' busybox)
	[ "$rw" = 6 ]
	[ "$rootfs" = $((image + 6)) ]
}
