#!/usr/bin/env bats
# berth compose against a private berthd: the model (config), then up/down
# and the commands on a project's containers, with Docker Compose v2's names
# and labels.

load ../helpers.bash
load compose_lib.bash

compose_berthd_hooks

@test "compose config: interpolation from .env, override file, canonical YAML and JSON" {
	cat >compose.yaml <<-'EOF'
	services:
	  web:
	    image: busybox:${TAG:-latest}
	    command: httpd -f -p ${PORT}
	    environment: [MODE]
	    ports: ["${PORT}:${PORT}"]
	  db:
	    image: busybox
	    volumes: [data:/data]
	volumes:
	  data: {}
	EOF
	cat >compose.override.yaml <<-'EOF'
	services:
	  web:
	    environment: [EXTRA=1]
	EOF
	printf 'PORT=8080\nMODE=dev\n' >.env
	run_berth compose config
	[ "$status" -eq 0 ]
	[[ "$output" == *"name: $PROJECT"* ]]
	[[ "$output" == *"image: busybox:latest"* ]]
	[[ "$output" == *"      - httpd"*"      - \"8080\""* ]]
	[[ "$output" == *"MODE: dev"* ]]
	[[ "$output" == *"EXTRA: \"1\""* ]]
	[[ "$output" == *"published: \"8080\""* ]]
	[[ "$output" == *"name: ${PROJECT}_data"* ]]
	run_berth compose config --services
	[ "$output" = "$(printf 'db\nweb')" ]
	run_berth compose config --volumes
	[ "$output" = data ]
	run_berth compose config --format json
	[ "$(jq -r .services.web.environment.MODE <<<"$output")" = dev ]
	[ "$(jq -r '.services.web.ports[0].target' <<<"$output")" = 8080 ]
	# the shell wins over .env
	MODE=prod run_berth compose config --format json
	[ "$(jq -r .services.web.environment.MODE <<<"$output")" = prod ]
	run_berth compose config -q
	[ "$status" -eq 0 ] && [ -z "$output" ]
}

@test "compose config: errors name the file, the line and the field" {
	printf 'services:\n  web:\n    image: busybox\n    prots: ["80"]\n' >compose.yaml
	run_berth compose config
	[ "$status" -eq 1 ]
	[ "$output" = "$PWD/compose.yaml:4: services.web additional properties 'prots' not allowed" ]
	printf 'services:\n  a: {image: busybox, depends_on: [b]}\n  b: {image: busybox, depends_on: [a]}\n' >compose.yaml
	run_berth compose config
	[ "$status" -eq 1 ]
	[ "$output" = "dependency cycle detected: a -> b -> a" ]
	printf 'services:\n  a:\n    image: ${IMG:?IMG must be set}\n' >compose.yaml
	run_berth compose config
	[ "$output" = "$PWD/compose.yaml:3: error while interpolating services.a.image: required variable IMG is missing a value: IMG must be set" ]
	rm compose.yaml
	run_berth compose config
	[ "$status" -eq 1 ]
	[ "$output" = "no configuration file provided: not found" ]
	# -f, -p and COMPOSE_FILE
	printf 'services:\n  x: {image: busybox}\n' >other.yml
	run_berth compose -f other.yml -p Bad config
	[[ "$output" == *'"Bad" is not a valid project name'* ]]
	COMPOSE_FILE=other.yml run_berth compose config --services
	[ "$output" = x ]
}

@test "compose up -d: Compose v2 names and labels, dependencies first, ps, idempotent up" {
	cat >compose.yaml <<-'EOF'
	services:
	  db:
	    image: busybox
	    command: [sleep, "1000"]
	  api:
	    image: busybox
	    command: [sleep, "1000"]
	    depends_on: [db]
	    labels: {tier: api}
	  web:
	    image: busybox
	    command: [sleep, "1000"]
	    depends_on: [api]
	EOF
	run_berth compose up -d
	[ "$status" -eq 0 ]
	# db is started before api is created, api before web
	started_db=$(grep -n "Container $PROJECT-db-1  Started" <<<"$output" | cut -d: -f1)
	created_api=$(grep -n "Container $PROJECT-api-1  Creating" <<<"$output" | cut -d: -f1)
	started_api=$(grep -n "Container $PROJECT-api-1  Started" <<<"$output" | cut -d: -f1)
	created_web=$(grep -n "Container $PROJECT-web-1  Creating" <<<"$output" | cut -d: -f1)
	[ "$started_db" -lt "$created_api" ] && [ "$started_api" -lt "$created_web" ]
	run "$BERTH" inspect "$PROJECT-api-1"
	labels=$(jq '.[0].Config.Labels' <<<"$output")
	[ "$(jq -r '."com.docker.compose.project"' <<<"$labels")" = "$PROJECT" ]
	[ "$(jq -r '."com.docker.compose.service"' <<<"$labels")" = api ]
	[ "$(jq -r '."com.docker.compose.container-number"' <<<"$labels")" = 1 ]
	[ "$(jq -r '."com.docker.compose.oneoff"' <<<"$labels")" = False ]
	[ "$(jq -r '."com.docker.compose.project.working_dir"' <<<"$labels")" = "$PWD" ]
	[ "$(jq -r '."com.docker.compose.project.config_files"' <<<"$labels")" = "$PWD/compose.yaml" ]
	[ "$(jq -r '."com.docker.compose.depends_on"' <<<"$labels")" = "db:service_started:false" ]
	[ "$(jq -r '.tier' <<<"$labels")" = api ]
	hash=$(jq -r '."com.docker.compose.config-hash"' <<<"$labels")
	[ "$hash" = "$("$BERTH" compose config --hash api | cut -d' ' -f2)" ]
	run_berth compose ps --format '{{.Name}} {{.Service}} {{.State}}'
	[ "$output" = "$(printf '%s-api-1 api running\n%s-db-1 db running\n%s-web-1 web running' "$PROJECT" "$PROJECT" "$PROJECT")" ]
	ids=$("$BERTH" compose ps -q)
	# up again: nothing changes
	run_berth compose up -d
	[ "$status" -eq 0 ]
	[ "$(grep -c ' Running$' <<<"$output")" -eq 3 ]
	[ -z "$(grep -E 'Creat|Recreate|Start' <<<"$output")" ]
	[ "$("$BERTH" compose ps -q)" = "$ids" ]
}

@test "compose up: a config change recreates that service and its dependents only" {
	cat >compose.yaml <<-'EOF'
	services:
	  db: {image: busybox, command: [sleep, "1000"]}
	  api: {image: busybox, command: [sleep, "1000"], environment: {V: "1"}, depends_on: [db]}
	  web: {image: busybox, command: [sleep, "1000"], depends_on: [api]}
	  other: {image: busybox, command: [sleep, "1000"]}
	EOF
	"$BERTH" compose up -d 2>/dev/null
	db=$(cid db) api=$(cid api) web=$(cid web) other=$(cid other)
	sed -i 's/V: "1"/V: "2"/' compose.yaml
	run_berth compose up -d -t 0
	[ "$status" -eq 0 ]
	[[ "$output" == *"Container $PROJECT-api-1  Recreate"* ]]
	[ "$(cid db)" = "$db" ] && [ "$(cid other)" = "$other" ]
	[ "$(cid api)" != "$api" ] && [ "$(cid web)" != "$web" ]
	[ "$("$BERTH" exec "$PROJECT-api-1" sh -c 'echo $V')" = 2 ]
	# --force-recreate replaces everything, --no-recreate nothing
	other=$(cid other)
	run_berth compose up -d --no-recreate --force-recreate
	[ "$status" -eq 1 ]
	"$BERTH" compose up -d -t 0 --force-recreate other 2>/dev/null
	[ "$(cid other)" != "$other" ]
}

@test "compose up --scale: 3 replicas, then 1" {
	printf 'services:\n  w:\n    image: busybox\n    command: [sleep, "1000"]\n' >compose.yaml
	run_berth compose up -d --scale w=3
	[ "$status" -eq 0 ]
	run_berth compose ps --format '{{.Name}}'
	[ "$output" = "$(printf '%s-w-1\n%s-w-2\n%s-w-3' "$PROJECT" "$PROJECT" "$PROJECT")" ]
	first=$(cid w)
	run_berth compose up -d -t 0 --scale w=1
	[[ "$output" == *"Container $PROJECT-w-3  Removed"* ]]
	run_berth compose ps -a --format '{{.Name}}'
	[ "$output" = "$PROJECT-w-1" ]
	[ "$(cid w)" = "$first" ]
	# scale: in the file counts as well
	printf 'services:\n  w:\n    image: busybox\n    command: [sleep, "1000"]\n    scale: 2\n' >compose.yaml
	"$BERTH" compose up -d 2>/dev/null
	[ "$("$BERTH" compose ps -q | wc -l)" -eq 2 ]
}

@test "compose up: depends_on service_completed_successfully waits for the exit, a failure stops up" {
	cat >compose.yaml <<-'EOF'
	services:
	  init:
	    image: busybox
	    command: [sh, -c, "echo ready > /shared/flag"]
	    volumes: [shared:/shared]
	  app:
	    image: busybox
	    command: [sh, -c, "cat /shared/flag; exec sleep 1000"]
	    volumes: [shared:/shared]
	    depends_on:
	      init: {condition: service_completed_successfully}
	volumes:
	  shared: {}
	EOF
	run_berth compose up -d
	[ "$status" -eq 0 ]
	[[ "$output" == *"Container $PROJECT-init-1  Exited"* ]]
	run "$BERTH" logs "$PROJECT-app-1"
	[ "$output" = ready ]
	"$BERTH" compose down -t 0 -v 2>/dev/null
	sed -i 's/echo ready > \/shared\/flag/exit 3/' compose.yaml
	run_berth compose up -d
	[ "$status" -eq 1 ]
	[[ "$output" == *'service "init" didn'"'"'t complete successfully: exit 3'* ]]
	run "$BERTH" ps -a --filter "name=$PROJECT-app" -q
	[ -z "$output" ]
}

@test "compose up: depends_on service_healthy waits for the healthcheck" {
	engine_has_health || skip "this berthd runs no healthchecks yet (State.Health missing)"
	check_healthy_dependency
}

@test "compose: start, stop, restart, pause, unpause, kill, rm, exec, run, logs, top, images, ls" {
	cat >compose.yaml <<-'EOF'
	services:
	  a:
	    image: busybox
	    command: [sh, -c, "echo hello from a; exec sleep 1000"]
	    environment: {WHO: a}
	  b:
	    image: busybox
	    command: [sh, -c, "echo hello from b; exec sleep 1000"]
	EOF
	"$BERTH" compose up -d 2>/dev/null
	run_berth compose logs --no-color
	[[ "$output" == *"$PROJECT-a-1  | hello from a"* ]]
	[[ "$output" == *"$PROJECT-b-1  | hello from b"* ]]
	run_berth compose logs --no-color b
	[ "$output" = "$PROJECT-b-1  | hello from b" ]
	run_berth compose logs --no-log-prefix --index 1 b
	[ "$output" = "hello from b" ]
	run_berth compose logs --no-log-prefix --since 1h --tail 1 a
	[ "$output" = "hello from a" ]
	run_berth compose run -d -l mark=yes --name "$PROJECT-oneoff" a sleep 1000
	[ "$status" -eq 0 ]
	[ "$("$BERTH" inspect -f '{{index .Config.Labels "mark"}} {{index .Config.Labels "com.docker.compose.oneoff"}}' "$PROJECT-oneoff")" = "yes True" ]
	"$BERTH" rm -f "$PROJECT-oneoff" >/dev/null
	run_berth compose run -v /x:/y a true
	[ "$status" -eq 1 ] && [[ "$output" == *"--volume and --publish are not supported yet"* ]]
	run_berth compose exec -T a sh -c 'echo $WHO'
	[ "$status" -eq 0 ] && [ "$output" = a ]
	run_berth compose exec -T a sh -c 'exit 7'
	[ "$status" -eq 7 ]
	run_berth compose run --rm -T -e X=1 a sh -c 'echo run $X $WHO'
	[ "$status" -eq 0 ] && [ "$output" = "run 1 a" ]
	[ -z "$("$BERTH" ps -a -q --filter label=com.docker.compose.oneoff=True)" ]
	run_berth compose top a
	[[ "$output" == *"$PROJECT-a-1"*"sleep 1000"* ]]
	run_berth compose images
	[[ "$output" == *"$PROJECT-a-1"*busybox*latest* ]]
	run_berth compose ls
	[[ "$output" == *"$PROJECT"*"running(2)"*"$PWD/compose.yaml"* ]]
	run_berth compose pause a
	[ "$(state a)" = paused ]
	run_berth compose unpause a
	[ "$(state a)" = running ]
	run_berth compose stop -t 0 b
	[ "$(state b)" = exited ] && [ "$(state a)" = running ]
	run_berth compose start b
	[ "$(state b)" = running ]
	run_berth compose restart -t 0 a
	[[ "$output" == *"Container $PROJECT-a-1  Started"* ]]
	run_berth compose kill -s SIGKILL
	[ "$(state a)" = exited ] && [ "$(state b)" = exited ]
	run_berth compose rm -f b
	[ -z "$("$BERTH" ps -a -q --filter "name=$PROJECT-b-1")" ]
	run_berth compose up -d nosuch
	[ "$status" -eq 1 ] && [ "$output" = "no such service: nosuch" ]
	# --pull never: a missing image is an error, nothing is pulled
	printf 'services:\n  m: {image: "berth-missing/image:1"}\n' >missing.yaml
	run_berth compose -f missing.yaml up -d --pull never
	[ "$status" -eq 1 ]
	[[ "$output" == *"No such image"* ]] && [[ "$output" != *Pulling* ]]
	run_berth compose -f missing.yaml up -d --pull sometimes
	[ "$status" -eq 1 ] && [ "$output" = "invalid --pull option sometimes" ]
}

@test "compose down -v removes exactly what the project made" {
	"$BERTH" volume create outside >/dev/null
	cat >compose.yaml <<-'EOF'
	services:
	  s:
	    image: busybox
	    command: [sleep, "1000"]
	    volumes: [data:/data, /anonymous, outside:/outside]
	volumes:
	  data: {}
	  outside: {external: true}
	EOF
	"$BERTH" compose up -d 2>/dev/null
	"$BERTH" volume inspect "${PROJECT}_data" >/dev/null
	run_berth compose down -t 0 -v
	[ "$status" -eq 0 ]
	[[ "$output" == *"Volume ${PROJECT}_data  Removed"* ]]
	[ -z "$("$BERTH" ps -a -q --filter "label=com.docker.compose.project=$PROJECT")" ]
	run "$BERTH" volume ls -q
	[ "$output" = outside ]
	"$BERTH" volume rm outside >/dev/null
	# down with only -p: the project's containers, without a file
	printf 'services:\n  s: {image: busybox, command: [sleep, "1000"]}\n' >compose.yaml
	"$BERTH" compose up -d 2>/dev/null
	(cd / && "$BERTH" compose -p "$PROJECT" down -t 0 2>/dev/null)
	[ -z "$("$BERTH" ps -a -q --filter "label=com.docker.compose.project=$PROJECT")" ]
}

@test "compose: a container made by another Compose (same labels and hash) is adopted, not duplicated" {
	printf 'services:\n  web:\n    image: busybox\n    command: [sleep, "1000"]\n' >compose.yaml
	# Docker Compose v2's hash of this service: sha256 of compose-go's JSON
	# {"command":["sleep","1000"],"entrypoint":null,"image":"busybox","networks":{"default":null}}
	hash=39a6ed0eec1ef3603ac14738fc339adc0b5751c4ae48684d1483696fff5a2b8d
	[ "$("$BERTH" compose config --hash web)" = "web $hash" ]
	"$BERTH" run -d --name "$PROJECT-web-1" \
		--label "com.docker.compose.project=$PROJECT" --label com.docker.compose.service=web \
		--label com.docker.compose.container-number=1 --label com.docker.compose.oneoff=False \
		--label "com.docker.compose.config-hash=$hash" busybox sleep 1000 >/dev/null
	id=$(cid web)
	run_berth compose up -d
	[[ "$output" == *" Container $PROJECT-web-1  Running"* ]]
	[ -z "$(grep -E 'Container .*(Creat|Recreate)' <<<"$output")" ]
	[ "$(cid web)" = "$id" ]
	run_berth compose ps -q
	[ "$output" = "$id" ]
}

@test "compose: a 3-tier project whose services reach each other by name and alias" {
	engine_has_networks || skip "this berthd has no /networks yet: service names cannot resolve"
	cat >compose.yaml <<-'EOF2'
	services:
	  db:
	    image: busybox
	    command: [sh, -c, "mkdir -p /www && echo db-data > /www/index.html && exec httpd -f -p 80 -h /www"]
	  api:
	    image: busybox
	    command: [sh, -c, "mkdir -p /www; for i in $$(seq 100); do wget -qO /www/index.html http://db/ && break; sleep 0.1; done; exec httpd -f -p 80 -h /www"]
	    depends_on: [db]
	    networks:
	      default:
	        aliases: [backend]
	  web:
	    image: busybox
	    command: [sh, -c, "mkdir -p /www; for i in $$(seq 100); do wget -qO /www/index.html http://backend/ && break; sleep 0.1; done; exec httpd -f -p 80 -h /www"]
	    depends_on: [api]
	    ports: ["8080:80"]
	EOF2
	run_berth compose up -d
	[ "$status" -eq 0 ]
	[[ "$output" == *"Network ${PROJECT}_default  Created"* ]]
	# web got the page from api (by its alias), which got it from db (by name)
	run_berth compose exec -T web sh -c 'for i in $(seq 100); do wget -qO- http://web/ 2>/dev/null && exit 0; sleep 0.1; done; exit 1'
	[ "$status" -eq 0 ] && [ "$output" = db-data ]
	run_berth compose exec -T db wget -qO- http://api/
	[ "$output" = db-data ]
	# the published port answers in the daemon's network namespace
	run_berth compose port web 80
	[ "$output" = "0.0.0.0:8080" ]
	run berth_netns wget -qO- http://127.0.0.1:8080/
	[ "$output" = db-data ]
	run_berth compose down -t 0
	[[ "$output" == *"Network ${PROJECT}_default  Removed"* ]]
	run "$BERTH" network inspect "${PROJECT}_default"
	[ "$status" -ne 0 ]
}

@test "compose: external networks are used, never removed" {
	engine_has_networks || skip "this berthd has no /networks yet"
	"$BERTH" network create shared-ext >/dev/null
	cat >compose.yaml <<-'EOF2'
	services:
	  s:
	    image: busybox
	    command: [sleep, "1000"]
	    networks: [ext]
	networks:
	  ext: {external: true, name: shared-ext}
	EOF2
	run_berth compose up -d
	[ "$status" -eq 0 ]
	[ "$("$BERTH" inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}' "$PROJECT-s-1")" = shared-ext ]
	"$BERTH" compose down -t 0 2>/dev/null
	"$BERTH" network inspect shared-ext >/dev/null
	"$BERTH" network rm shared-ext >/dev/null
}

@test "compose up attached: prefixed output, exit lines, --abort-on-container-exit, --exit-code-from" {
	cat >compose.yaml <<-'EOF2'
	services:
	  one: {image: busybox, command: [sh, -c, "echo one says hi; exit 3"]}
	  two: {image: busybox, command: [sh, -c, "echo two says hi; exit 0"]}
	EOF2
	run "$BERTH" compose up --no-color
	[ "$status" -eq 0 ]
	[[ "$output" == *"Attaching to $PROJECT-one-1, $PROJECT-two-1"* ]]
	[[ "$output" == *"$PROJECT-one-1  | one says hi"* ]]
	[[ "$output" == *"$PROJECT-two-1  | two says hi"* ]]
	# a container's last line comes before the line saying it exited
	said=$(grep -n "one says hi" <<<"$output" | cut -d: -f1)
	exited=$(grep -n "$PROJECT-one-1 exited with code 3" <<<"$output" | cut -d: -f1)
	[ "$said" -lt "$exited" ]
	[[ "$output" == *"$PROJECT-two-1 exited with code 0"* ]]
	# a second run prints this run's output only
	run "$BERTH" compose up --no-color
	[ "$(grep -c 'one says hi' <<<"$output")" -eq 1 ]
	run "$BERTH" compose up --exit-code-from one
	[ "$status" -eq 3 ]
	"$BERTH" compose down -t 0 2>/dev/null
	cat >compose.yaml <<-'EOF2'
	services:
	  quick: {image: busybox, command: [sh, -c, "echo bye; exit 4"]}
	  long: {image: busybox, command: [sleep, "1000"]}
	EOF2
	run "$BERTH" compose up --abort-on-container-exit -t 0
	[ "$status" -eq 4 ]
	[[ "$output" == *"Aborting on container exit..."* ]]
	[ "$(state long)" = exited ]
	run "$BERTH" compose up -d --abort-on-container-exit
	[ "$status" -eq 1 ]
}

@test "compose up --wait: returns once every container runs, detached" {
	printf 'services:\n  s: {image: busybox, command: [sleep, "1000"]}\n  t: {image: busybox, command: [sleep, "1000"]}\n' >compose.yaml
	run_berth compose up --wait
	[ "$status" -eq 0 ]
	[ "$(state s)" = running ] && [ "$(state t)" = running ]
	[[ "$output" == *"Container $PROJECT-s-1  Healthy"* ]]
	# --wait implies -d: up returned with the containers running
	[ -z "$(grep 'Attaching to' <<<"$output")" ]
}

@test "compose build, and up of a service that is built" {
	mkdir ctx
	printf 'FROM busybox\nARG GREETING=none\nRUN echo "$GREETING" > /greeting\nCMD ["cat", "/greeting"]\n' >ctx/Dockerfile
	cat >compose.yaml <<-'EOF2'
	services:
	  app:
	    build:
	      context: ./ctx
	      args: {GREETING: built-by-compose}
	EOF2
	run_berth compose build
	[ "$status" -eq 0 ]
	"$BERTH" image inspect "$PROJECT-app" >/dev/null
	run "$BERTH" compose up --no-color
	[ "$status" -eq 0 ]
	[[ "$output" == *"$PROJECT-app-1  | built-by-compose"* ]]
	run_berth compose down --rmi local -t 0
	[[ "$output" == *"Image $PROJECT-app  Removed"* ]]
	run "$BERTH" image inspect "$PROJECT-app"
	[ "$status" -ne 0 ]
}
