#!/usr/bin/env bats
# The volume endpoints over the UNIX socket (create, list and its filters,
# inspect, remove, prune, PUT), their events and dockerd's errors; the state
# across a restart; and `berth volume ...` against the same daemon.

load ../helpers

setup_file() { berth_start; }

# The restart test leaves a daemon this file's teardown did not start.
teardown_file() {
	local pid
	if [ -f "$BERTH_ROOT/restarted" ] && pid=$(cat "$BERTH_ROOT/berthd.pid" 2>/dev/null) &&
		[ "$pid" != "$BERTHD_PID" ] && kill "$pid" 2>/dev/null; then
		for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.02; done
	fi
	berth_stop
}

# create NAME-OR-EMPTY [extra JSON members]: POST /volumes/create
create() {
	local body="{\"Name\":\"$1\"${2:+,$2}}"
	api POST /volumes/create -H 'Content-Type: application/json' -d "$body"
}

@test "POST /volumes/create makes a local volume with dockerd's fields" {
	run create v-api '"Labels":{"b":"2","a":"1"}'
	api_split
	[ "$status" = 201 ]
	[ "$(jq -r .Name <<<"$body")" = v-api ]
	[ "$(jq -r .Driver <<<"$body")" = local ]
	[ "$(jq -r .Scope <<<"$body")" = local ]
	[ "$(jq -r .Mountpoint <<<"$body")" = "$BERTH_ROOT/data/volumes/v-api/_data" ]
	[ "$(jq -c .Labels <<<"$body")" = '{"a":"1","b":"2"}' ]
	[ "$(jq -c .Options <<<"$body")" = null ]
	[[ "$(jq -r .CreatedAt <<<"$body")" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$ ]]
	[ -d "$BERTH_ROOT/data/volumes/v-api/_data" ]
	# again: the existing volume, unchanged
	run create v-api '"Labels":{"c":"3"}'
	api_split
	[ "$status" = 201 ]
	[ "$(jq -c .Labels <<<"$body")" = '{"a":"1","b":"2"}' ]
	run api GET /volumes/v-api
	api_split
	[ "$status" = 200 ]
	[ "$(jq -r .Name <<<"$body")" = v-api ]
}

@test "an anonymous volume gets a 64-hex name and dockerd's label" {
	run api POST /volumes/create
	api_split
	[ "$status" = 201 ]
	[[ "$(jq -r .Name <<<"$body")" =~ ^[0-9a-f]{64}$ ]]
	[ "$(jq -c .Labels <<<"$body")" = '{"com.docker.volume.anonymous":""}' ]
	api DELETE "/volumes/$(jq -r .Name <<<"$body")" >/dev/null
}

@test "driver options type/device/o are kept, and opts.json written as dockerd does" {
	run create v-tmpfs '"DriverOpts":{"type":"tmpfs","device":"tmpfs","o":"size=1m"}'
	api_split
	[ "$status" = 201 ]
	[ "$(jq -c .Options <<<"$body")" = '{"device":"tmpfs","o":"size=1m","type":"tmpfs"}' ]
	[ "$(cat "$BERTH_ROOT/data/volumes/v-tmpfs/opts.json")" = \
		'{"MountType":"tmpfs","MountOpts":"size=1m","MountDevice":"tmpfs","Quota":{"Size":0}}' ]
	api DELETE /volumes/v-tmpfs >/dev/null
}

@test "create errors carry dockerd's status and wording" {
	run create -bad
	api_split
	[ "$status" = 400 ]
	[ "$(jq -r .message <<<"$body")" = 'create -bad: "-bad" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path' ]
	run create a
	api_split
	[ "$status" = 400 ]
	[ "$(jq -r .message <<<"$body")" = 'create a: volume name is too short, names should be at least two alphanumeric characters' ]
	run create x1 '"Driver":"foo"'
	api_split
	[ "$status" = 404 ]
	[ "$(jq -r .message <<<"$body")" = 'create x1: error looking up volume plugin foo: plugin "foo" not found' ]
	run create x2 '"DriverOpts":{"foo":"bar"}'
	api_split
	[ "$status" = 400 ]
	[ "$(jq -r .message <<<"$body")" = 'create x2: invalid option: "foo"' ]
	run create x3 '"DriverOpts":{"type":"tmpfs"}'
	api_split
	[ "$(jq -r .message <<<"$body")" = 'create x3: missing required option: "device"' ]
	run api POST /volumes/create -d '{"Name":"x4"}'
	api_split
	[ "$status" = 400 ]
	[[ "$(jq -r .message <<<"$body")" == "unsupported Content-Type header (application/x-www-form-urlencoded): must be 'application/json'" ]]
	run api POST /volumes/create -H 'Content-Type: application/json' -d '[]'
	api_split
	[ "$status" = 400 ]
	run api GET /volumes
	api_split
	[ "$(jq '[.Volumes[].Name | select(startswith("x"))] | length' <<<"$body")" = 0 ]
}

@test "GET /volumes lists sorted with Warnings null, and filters like dockerd" {
	for v in f-web1 f-web2 f-db; do api DELETE "/volumes/$v" >/dev/null; done
	create f-web1 '"Labels":{"app":"web","tier":"front"}' >/dev/null
	create f-web2 '"Labels":{"app":"web"}' >/dev/null
	create f-db '"Labels":{"app":"db"}' >/dev/null
	run api GET /volumes
	api_split
	[ "$status" = 200 ]
	[ "$(jq -c .Warnings <<<"$body")" = null ]
	names() { jq -r '[.Volumes[].Name | select(startswith("f-"))] | join(",")' <<<"$1"; }
	[ "$(names "$body")" = f-db,f-web1,f-web2 ]
	run api GET '/volumes?filters=%7B%22label%22%3A%5B%22app%3Dweb%22%5D%7D'
	api_split
	[ "$(names "$body")" = f-web1,f-web2 ]
	run api GET '/volumes?filters=%7B%22label%22%3A%7B%22tier%22%3Atrue%7D%7D'
	api_split
	[ "$(names "$body")" = f-web1 ]
	run api GET '/volumes?filters=%7B%22name%22%3A%5B%22web2%24%22%5D%7D'
	api_split
	[ "$(names "$body")" = f-web2 ]
	run api GET '/volumes?filters=%7B%22driver%22%3A%5B%22local%22%5D%2C%22dangling%22%3A%5B%22true%22%5D%7D'
	api_split
	[ "$(names "$body")" = f-db,f-web1,f-web2 ]
	run api GET '/volumes?filters=%7B%22dangling%22%3A%5B%22maybe%22%5D%7D'
	api_split
	[ "$status" = 400 ]
	[ "$(jq -r .message <<<"$body")" = "invalid filter 'dangling=[maybe]'" ]
	run api GET '/volumes?filters=%7B%22until%22%3A%5B%221h%22%5D%7D'
	api_split
	[ "$status" = 400 ]
	[ "$(jq -r .message <<<"$body")" = "invalid filter 'until'" ]
}

@test "DELETE /volumes/{name}: 204, 404 no such volume, force ignores missing" {
	create d-gone >/dev/null
	run api DELETE /volumes/d-gone
	api_split
	[ "$status" = 204 ]
	[ ! -e "$BERTH_ROOT/data/volumes/d-gone" ]
	run api DELETE /volumes/d-gone
	api_split
	[ "$status" = 404 ]
	[ "$(jq -r .message <<<"$body")" = "get d-gone: no such volume" ]
	run api DELETE '/volumes/d-gone?force=1'
	api_split
	[ "$status" = 204 ]
	run api GET /volumes/d-gone
	api_split
	[ "$status" = 404 ]
}

@test "PUT /volumes/{name} is for swarm cluster volumes only" {
	run api PUT '/volumes/v-api?version=1' -H 'Content-Type: application/json' -d '{}'
	api_split
	[ "$status" = 503 ]
	[ "$(jq -r .message <<<"$body")" = "volume update only valid for cluster volumes, but swarm is unavailable" ]
}

@test "POST /volumes/prune: anonymous only since 1.42, all=true and labels, older APIs all" {
	api POST '/volumes/prune?filters=%7B%22all%22%3A%5B%22true%22%5D%7D' >/dev/null
	create p-named '"Labels":{"keep":"yes"}' >/dev/null
	create p-other >/dev/null
	run api POST /volumes/create
	api_split
	anon=$(jq -r .Name <<<"$body")
	printf 0123456789 >"$BERTH_ROOT/data/volumes/$anon/_data/blob"
	run api POST /volumes/prune
	api_split
	[ "$status" = 200 ]
	[ "$(jq -c . <<<"$body")" = "{\"VolumesDeleted\":[\"$anon\"],\"SpaceReclaimed\":10}" ]
	run api POST '/volumes/prune?filters=%7B%22all%22%3A%5B%221%22%5D%2C%22label!%22%3A%5B%22keep%22%5D%7D'
	api_split
	[ "$(jq -c .VolumesDeleted <<<"$body")" = '["p-other"]' ]
	run api POST /v1.41/volumes/prune
	api_split
	[ "$(jq -c .VolumesDeleted <<<"$body")" = '["p-named"]' ]
	run api POST /volumes/prune
	api_split
	[ "$(jq -c . <<<"$body")" = '{"VolumesDeleted":[],"SpaceReclaimed":0}' ]
	run api POST '/volumes/prune?filters=%7B%22all%22%3A%5B%22yes%22%5D%7D'
	api_split
	[ "$status" = 400 ]
	[ "$(jq -r .message <<<"$body")" = "invalid filter 'all': strconv.ParseBool: parsing \"yes\": invalid syntax" ]
	run api POST '/volumes/prune?filters=%7B%22dangling%22%3A%5B%22true%22%5D%7D'
	api_split
	[ "$status" = 400 ]
}

@test "volume events: create, destroy and prune with the driver attribute" {
	t0=$(date +%s)
	create e-vol >/dev/null
	api DELETE /volumes/e-vol >/dev/null
	api POST /volumes/prune >/dev/null
	run curl -s --unix-socket "$BERTH_SOCK" \
		"http://berth/events?since=$t0&until=$(($(date +%s) + 1))&filters=%7B%22type%22%3A%5B%22volume%22%5D%7D"
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.Actor.ID=="e-vol") | .Action + ":" + .Actor.Attributes.driver' <<<"$output" | paste -sd,)" = create:local,destroy:local ]
	[ "$(jq -r 'select(.Action=="prune") | .Actor.Attributes.reclaimed' <<<"$output" | tail -1)" = 0 ]
}

@test "volumes, labels and options survive a daemon restart" {
	create r-keep '"Labels":{"x":"y"},"DriverOpts":{"type":"tmpfs","device":"tmpfs"}' >/dev/null
	local old
	old=$(cat "$BERTH_ROOT/berthd.pid")
	kill "$old"
	# the data root stays locked until the old daemon has exited
	for _ in $(seq 1 250); do kill -0 "$old" 2>/dev/null || break; sleep 0.02; done
	touch "$BERTH_ROOT/restarted"
	# fd 3 closed: bats waits for whatever holds it open
	"$BERTHD" --data-root "$BERTH_ROOT/data" --exec-root "$BERTH_ROOT/run" \
		--pidfile "$BERTH_ROOT/berthd.pid" -H "unix://$BERTH_SOCK" >>"$BERTH_ROOT/berthd.log" 2>&1 3>&- &
	berth_wait_socket "$BERTH_SOCK"
	run api GET /volumes/r-keep
	api_split
	[ "$status" = 200 ]
	[ "$(jq -c '[.Labels, .Options]' <<<"$body")" = '[{"x":"y"},{"device":"tmpfs","type":"tmpfs"}]' ]
	api DELETE /volumes/r-keep >/dev/null
}

@test "a volume a container uses is in use (409) until the container goes" {
	root=$(mktemp -d)
	cp /bin/busybox "$root/"
	tar -C "$root" -cf "$root.tar" busybox
	run api POST '/images/create?fromSrc=-&repo=voltest&tag=1' -H 'Content-Type: application/x-tar' --data-binary "@$root.tar"
	rm -rf "$root" "$root.tar"
	run api POST /containers/create -H 'Content-Type: application/json' \
		-d '{"Image":"voltest:1","Cmd":["/busybox","true"],"HostConfig":{"Binds":["u-used:/data"]}}'
	api_split
	[ "$status" = 201 ]
	id=$(jq -r .Id <<<"$body")
	run api GET /volumes/u-used
	api_split
	[ "$status" = 200 ]
	run api DELETE /volumes/u-used
	api_split
	[ "$status" = 409 ]
	[ "$(jq -r .message <<<"$body")" = "remove u-used: volume is in use - [$id]" ]
	run api DELETE "/containers/$id?v=1"
	run api DELETE /volumes/u-used
	api_split
	[ "$status" = 204 ]
}

# ------------------------------------------------------------ berth volume

@test "berth volume create, ls, inspect, rm" {
	run "$BERTH" volume create --label a=b --label c -o type=tmpfs -o device=tmpfs cli-vol
	[ "$status" -eq 0 ]
	[ "$output" = cli-vol ]
	run "$BERTH" volume ls --filter label=a=b
	[ "$status" -eq 0 ]
	[ "$output" = $'DRIVER    VOLUME NAME\nlocal     cli-vol' ]
	run "$BERTH" volume ls -q --filter name=cli-
	[ "$output" = cli-vol ]
	run "$BERTH" volume ls --filter name=cli- --format '{{.Name}}|{{.Labels}}|{{.Scope}}|{{.Size}}'
	[ "$output" = 'cli-vol|a=b,c=|local|N/A' ]
	run "$BERTH" volume ls --filter name=cli- --format json
	[ "$(jq -r .Mountpoint <<<"$output")" = "$BERTH_ROOT/data/volumes/cli-vol/_data" ]
	run "$BERTH" volume inspect cli-vol
	[ "$status" -eq 0 ]
	[ "$(jq -r '.[0].Options.type' <<<"$output")" = tmpfs ]
	[[ "$output" == *$'\n        "Driver": "local",\n'* ]]
	run "$BERTH" volume inspect --format '{{.Name}} {{.Driver}} {{json .Labels}}' cli-vol
	[ "$output" = 'cli-vol local {"a":"b","c":""}' ]
	run "$BERTH" volume rm cli-vol
	[ "$status" -eq 0 ]
	[ "$output" = cli-vol ]
}

@test "berth volume sorts names naturally, as docker does" {
	for n in n-v10 n-v9 n-v1; do "$BERTH" volume create "$n" >/dev/null; done
	run "$BERTH" volume ls -q --filter name=n-v
	[ "$output" = $'n-v1\nn-v9\nn-v10' ]
	"$BERTH" volume rm n-v10 n-v9 n-v1
}

@test "berth volume errors: docker's messages and exit codes" {
	run "$BERTH" volume inspect nope
	[ "$status" -eq 1 ]
	[[ "$output" == *"Error response from daemon: get nope: no such volume"* ]]
	run "$BERTH" volume rm nope
	[ "$status" -eq 1 ]
	[ "$output" = "Error response from daemon: get nope: no such volume" ]
	run "$BERTH" volume rm -f nope
	[ "$status" -eq 0 ]
	run "$BERTH" volume create -d foo x9
	[ "$status" -eq 1 ]
	[ "$output" = 'Error response from daemon: create x9: error looking up volume plugin foo: plugin "foo" not found' ]
	run "$BERTH" volume create a b
	[ "$status" -eq 1 ]
	[[ "$output" == "berth: 'berth volume create' requires at most 1 argument"* ]]
	run "$BERTH" volume rm
	[ "$status" -eq 1 ]
	[[ "$output" == "berth: 'berth volume rm' requires at least 1 argument"* ]]
	run "$BERTH" volume ls --filter nofilter
	[ "$status" -eq 125 ]
	[[ "$output" == *'bad format of filter (expected name=value)'* ]]
	# docker's list commands exit 1 on a template that does not parse (64 is
	# inspect's); golden.list checks the same line against docker
	run "$BERTH" volume ls --format '{{.Name'
	[ "$status" -eq 1 ]
	[[ "$output" == "template parsing error: "* ]]
}

@test "berth volume prune asks first, then reports" {
	"$BERTH" volume create pr-named >/dev/null
	anon=$("$BERTH" volume create)
	run bash -c "echo n | '$BERTH' volume prune"
	[ "$status" -eq 0 ]
	[ "$output" = $'WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ' ]
	"$BERTH" volume inspect "$anon" >/dev/null
	run bash -c "echo y | '$BERTH' volume prune"
	[ "$status" -eq 0 ]
	[[ "$output" == *$'Deleted Volumes:\n'"$anon"$'\n\nTotal reclaimed space: 0B' ]]
	run "$BERTH" volume prune -af --filter label=nothing
	[ "$output" = "Total reclaimed space: 0B" ]
	run "$BERTH" volume prune -a -f --filter all=1
	[ "$status" -eq 1 ]
	[ "$output" = "conflicting options: cannot specify both --all and --filter all=1" ]
	run "$BERTH" volume prune -af
	[[ "$output" == *"pr-named"* ]]
}
