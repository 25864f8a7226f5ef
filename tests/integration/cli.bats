#!/usr/bin/env bats
# bin/berth against a private berthd: version, info, events, flags, errors.

load ../helpers

setup_file() { berth_start; }
teardown_file() { berth_stop; }

@test "berth version prints Client and Server" {
	run "$BERTH" version
	[ "$status" -eq 0 ]
	[[ "$output" == *"Client:"* ]]
	[[ "$output" == *"Server: berth"* ]]
	[[ "$output" == *"API version:      1.47 (minimum version 1.24)"* ]]
}

@test "berth version --format reads nested fields and json" {
	run "$BERTH" version --format '{{.Server.APIVersion}}/{{.Server.Os}}'
	[ "$status" -eq 0 ]
	[ "$output" = "1.47/linux" ]
	# Go field names, as docker's types.Version: the JSON key is not one
	run "$BERTH" version --format '{{.Server.ApiVersion}}'
	[ "$status" -eq 1 ]
	[[ "$output" == *"can't evaluate field ApiVersion in type *types.Version"* ]]
	run "$BERTH" version --format '{{json .Server.Platform}}'
	[ "$output" = '{"Name":"berth"}' ]
}

@test "berth -H and DOCKER_HOST select the daemon" {
	run env -u DOCKER_HOST "$BERTH" -H "unix://$BERTH_SOCK" version --format '{{.Server.Version}}'
	[ "$status" -eq 0 ]
	[ -n "$output" ]
	run env DOCKER_HOST="unix://$BERTH_SOCK" "$BERTH" info --format '{{.Driver}}'
	[ "$output" = overlay2 ]
}

@test "berth info prints the server section like docker" {
	run "$BERTH" info
	[ "$status" -eq 0 ]
	[[ "$output" == *"Storage Driver: overlay2"* ]]
	[[ "$output" == *"Docker Root Dir: $BERTH_ROOT/data"* ]]
	[[ "$output" == *" CPUs: $(nproc)"* ]]
	run "$BERTH" system info --format '{{.OSType}}'
	[ "$output" = linux ]
}

@test "berth events shows a daemon reload between --since and --until" {
	t0=$(date +%s)
	kill -HUP "$BERTHD_PID"
	sleep 0.3
	run "$BERTH" events --since "$t0" --until "$(( $(date +%s) + 1 ))"
	[ "$status" -eq 0 ]
	[[ "$output" == *" daemon reload "* ]]
	run "$BERTH" system events --since "$t0" --until "$(( $(date +%s) + 1 ))" --filter type=daemon --format '{{.Type}} {{.Action}}'
	[ "$(head -1 <<<"$output")" = "daemon reload" ]
}

@test "berth: a daemon that is not there is exit 1 with docker's message" {
	run "$BERTH" -H "unix://$BERTH_ROOT/nothing.sock" info
	[ "$status" -eq 1 ]
	[[ "$output" == *"Cannot connect to the Docker daemon at unix://$BERTH_ROOT/nothing.sock. Is the docker daemon running?"* ]]
}

@test "berth: flag errors exit 125" {
	run "$BERTH" version --bogus
	[ "$status" -eq 125 ]
	[[ "$output" == *"unknown flag: --bogus"* ]]
	run "$BERTH" events --since not-a-time
	[ "$status" -ne 0 ]
}

@test "berth --help and command help" {
	run "$BERTH" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"Usage:  berth [OPTIONS] COMMAND"* ]]
	run "$BERTH" events --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--since"* ]]
}

@test "bash completion: berth.bash is what gen.sh makes of the CLI's commands" {
	# a command added without `contrib/completion/gen.sh build/release/bin/berth` fails here
	cp contrib/completion/berth.bash "$BERTH_ROOT/berth.bash"
	contrib/completion/gen.sh "$BERTH" "$BERTH_ROOT/berth.bash"
	diff -u contrib/completion/berth.bash "$BERTH_ROOT/berth.bash"
}

@test "bash completion: commands, aliases, flags and flag values complete" {
	complete_words() {
		bash -c 'source /usr/share/bash-completion/bash_completion
			source contrib/completion/berth.bash
			COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
			COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
			_berth; printf "%s\n" "${COMPREPLY[@]}"' _ "$@"
	}
	run complete_words berth container l
	[ "$(echo $output)" = "list logs ls" ]
	run complete_words berth volume ls --f
	[ "$(echo $output)" = "--filter --format" ]
	run complete_words berth -H unix:///x image r
	[ "$(echo $output)" = "remove rm" ]
	run complete_words berth events --filter type=cont
	[ "$output" = "type=container" ]
	run complete_words berth system p
	[ "$output" = prune ]
}

@test "berth needs no shared library but libc (start-up), and still hashes" {
	# every command pays for what the dynamic loader relocates before main:
	# libcrypto alone was a third of `berth ps` (libcurl and libarchive are
	# dlopened, libcrypto opened on the first hash)
	ldd "$BERTH" | grep -q libasan && skip "sanitizer build"
	run bash -c "ldd '$BERTH' | grep -v -e linux-vdso -e 'libc\.so' -e ld-linux"
	[ "$output" = "" ]
	# compose's config hash goes through the libcrypto it opens
	mkdir -p "$BERTH_ROOT/hashproj"
	printf 'services:\n  a:\n    image: busybox\n' >"$BERTH_ROOT/hashproj/compose.yaml"
	run "$BERTH" compose -f "$BERTH_ROOT/hashproj/compose.yaml" -p hashproj config --hash a
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^a\ [0-9a-f]{64}$ ]]
}
