#!/usr/bin/env bats
# The real docker CLI against a private berthd: docker volume create, ls,
# inspect, rm and prune, with labels, options, filters and errors.

load ../helpers

setup_file() { berth_start; }
teardown_file() { berth_stop; }
setup() { require_docker_cli; }

@test "docker volume create prints the name; inspect shows dockerd's fields" {
	run docker volume create --label app=web --label tier -o type=tmpfs -o device=tmpfs -o o=size=1m dv-one
	[ "$status" -eq 0 ]
	[ "$output" = dv-one ]
	run docker volume inspect dv-one
	[ "$status" -eq 0 ]
	[ "$(jq -r '.[0].Driver' <<<"$output")" = local ]
	[ "$(jq -r '.[0].Scope' <<<"$output")" = local ]
	[ "$(jq -c '.[0].Labels' <<<"$output")" = '{"app":"web","tier":""}' ]
	[ "$(jq -c '.[0].Options' <<<"$output")" = '{"device":"tmpfs","o":"size=1m","type":"tmpfs"}' ]
	[ "$(jq -r '.[0].Mountpoint' <<<"$output")" = "$BERTH_ROOT/data/volumes/dv-one/_data" ]
	run docker volume inspect --format '{{.Name}} {{.Driver}} {{index .Labels "app"}}' dv-one
	[ "$output" = "dv-one local web" ]
}

@test "docker volume create without a name makes an anonymous volume" {
	run docker volume create
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^[0-9a-f]{64}$ ]]
	run docker volume inspect --format '{{json .Labels}}' "$output"
	[ "$output" = '{"com.docker.volume.anonymous":""}' ]
}

@test "docker volume ls: table, -q, --format and --filter" {
	docker volume create --label app=db dv-db >/dev/null
	docker volume create dv-plain >/dev/null
	run docker volume ls
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "DRIVER    VOLUME NAME" ]
	[[ "$output" == *$'\nlocal     dv-db\n'* ]]
	run docker volume ls -q --filter name=dv-
	[ "$output" = $'dv-db\ndv-one\ndv-plain' ]
	run docker volume ls -q --filter label=app
	[ "$output" = $'dv-db\ndv-one' ]
	run docker volume ls -q --filter label=app=db
	[ "$output" = dv-db ]
	run docker volume ls -q --filter dangling=true --filter name=dv-plain
	[ "$output" = dv-plain ]
	run docker volume ls -q --filter driver=local --filter name=dv-db
	[ "$output" = dv-db ]
	run docker volume ls --filter name=dv-db --format '{{.Name}}:{{.Driver}}:{{.Labels}}'
	[ "$output" = "dv-db:local:app=db" ]
	run docker volume ls --filter name=dv-db --format json
	[ "$(jq -r .Name <<<"$output")" = dv-db ]
}

@test "docker volume errors carry dockerd's wording" {
	run docker volume inspect nope
	[ "$status" -eq 1 ]
	[[ "$output" == *"get nope: no such volume"* ]]
	run docker volume create -- -bad
	[ "$status" -eq 1 ]
	[[ "$output" == *'create -bad: "-bad" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path'* ]]
	run docker volume create x
	[ "$status" -eq 1 ]
	[[ "$output" == *"create x: volume name is too short, names should be at least two alphanumeric characters"* ]]
	run docker volume create -d nosuchdriver dv-x
	[ "$status" -eq 1 ]
	[[ "$output" == *'create dv-x: error looking up volume plugin nosuchdriver: plugin "nosuchdriver" not found'* ]]
	run docker volume create -o foo=bar dv-x
	[ "$status" -eq 1 ]
	[[ "$output" == *'create dv-x: invalid option: "foo"'* ]]
	run docker volume create -o type=tmpfs dv-x
	[[ "$output" == *'create dv-x: missing required option: "device"'* ]]
	run docker volume ls --filter dangling=maybe
	[ "$status" -eq 1 ]
	[[ "$output" == *"invalid filter 'dangling=[maybe]'"* ]]
}

@test "docker volume rm removes, reports missing ones, -f ignores them" {
	docker volume create dv-rm >/dev/null
	run docker volume rm dv-rm nope
	[ "$status" -eq 1 ]
	[[ "$output" == *"dv-rm"* ]]
	[[ "$output" == *"get nope: no such volume"* ]]
	run docker volume inspect dv-rm
	[ "$status" -eq 1 ]
	run docker volume rm -f nope
	[ "$status" -eq 0 ]
}

@test "docker volume prune: anonymous only, -a for all, --filter label" {
	docker volume rm -f $(docker volume ls -q) >/dev/null
	docker volume create --label keep=1 dv-keep >/dev/null
	docker volume create dv-named >/dev/null
	anon=$(docker volume create)
	run docker volume prune -f
	[ "$status" -eq 0 ]
	[[ "$output" == *$'Deleted Volumes:\n'"$anon"* ]]
	[[ "$output" == *"Total reclaimed space: 0B" ]]
	run docker volume ls -q
	[ "$output" = $'dv-keep\ndv-named' ]
	run docker volume prune -af --filter label!=keep
	[[ "$output" == *"dv-named"* ]]
	[[ "$output" != *"dv-keep"* ]]
	run docker volume prune -af --filter label=keep=1
	[[ "$output" == *"dv-keep"* ]]
	run docker volume ls -q
	[ -z "$output" ]
}

@test "docker volume prune asks before it removes" {
	anon=$(docker volume create)
	run bash -c 'echo n | docker volume prune'
	[[ "$output" == *"WARNING! This will remove anonymous local volumes not used by at least one container."* ]]
	run docker volume inspect "$anon"
	[ "$status" -eq 0 ]
	run bash -c 'echo y | docker volume prune'
	[[ "$output" == *"$anon"* ]]
}

@test "docker system df lists volumes when the df route includes them" {
	docker volume create dv-df >/dev/null
	printf 12345 >"$BERTH_ROOT/data/volumes/dv-df/_data/f"
	run docker system df -v --format '{{range .Volumes}}{{.Name}}={{.Size}} {{end}}'
	[ "$status" -eq 0 ]
	[[ "$output" == *"dv-df="* ]]
	[[ "$output" == *"dv-df=5B"* ]]
}
