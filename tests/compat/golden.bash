# The golden comparison: each command line of a list file runs as `docker ...`
# (the real CLI) and as `berth ...` against the same private berthd; stdout,
# stderr and the exit code must match once IDs, times and the program's own
# name are masked.
#
# List files (tests/compat/golden*.list) are made of sections, one bats test each:
#
#   [ps]                          starts the section "ps"
#   ps -a --format '{{.Names}}'   a compared line: shell words after the CLI;
#                                 `| cmd` pipes both sides' stdout through cmd
#   @before create --name x IMG   runs (as berth, output dropped) before each side
#                                 of the next compared line; repeatable
#   @after rm -f x                runs after each side of the compared line above
#   @stdin FILE                   the next compared line reads FILE (relative to
#                                 $GOLDEN_DIR) on stdin
#   @sh COMMAND                   a shell command run once, here (fixtures)
#   # comment
#
# Lines are run with eval, so quoting is the shell's. $GOLDEN_DIR (a scratch
# directory) and $BERTH_ROOT may be used in lines.

GOLDEN_LISTS_DIR=${GOLDEN_LISTS_DIR:-$BATS_TEST_DIRNAME}

# golden_mask: stdin to stdout with what legitimately differs between two runs
# of the same command replaced by placeholders (<PTR>: where Go's fmt prints
# a pointer inside a struct).
golden_mask() {
	sed -E \
		-e 's/\b(docker|Docker|berth)\b/CLI/g' \
		-e 's/[0-9a-f]{64}/<ID>/g' \
		-e 's/\b[0-9a-f]{12}\b/<SHORTID>/g' \
		-e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})/<TIME>/g' \
		-e 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)? [+-][0-9]{4} [A-Z]+/<TIME>/g' \
		-e 's/(Less than a second|About an? (minute|hour)|[0-9]+ (second|minute|hour|day|week|month|year)s?)/<DUR>/g' \
		-e 's/"Created": ?[0-9]{10}/"Created":<EPOCH>/g' \
		-e 's/\btime="[^"]*"//g' \
		-e 's/\b0xc[0-9a-f]+\b/<PTR>/g'
}

# golden_side CLI LINE STDIN BEFORE AFTER: runs one side, prints its masked record.
golden_side() {
	local cli=$1 line=$2 stdin=$3 before=$4 after=$5 out err rc cmd
	out=$(mktemp "$GOLDEN_DIR/out.XXXXXX")
	err=$(mktemp "$GOLDEN_DIR/err.XXXXXX")
	while IFS= read -r cmd; do
		[ -n "$cmd" ] && eval "\"\$BERTH\" $cmd" >/dev/null 2>&1 </dev/null
	done <<<"$before"
	(eval "\"\$cli\" $line") <"$stdin" >"$out" 2>"$err"
	rc=$?
	while IFS= read -r cmd; do
		[ -n "$cmd" ] && eval "\"\$BERTH\" $cmd" >/dev/null 2>&1 </dev/null
	done <<<"$after"
	golden_mask <"$out"
	echo "--- stderr"
	golden_mask <"$err"
	echo "--- exit $rc"
	rm -f "$out" "$err"
}

# golden_compare LINE STDIN BEFORE AFTER: 0 when both sides agree, else the diff.
golden_compare() {
	local want got
	want=$(golden_side docker "$@")
	got=$(golden_side "$BERTH" "$@")
	[ "$want" = "$got" ] && return 0
	# a duration that changed length between the two runs ("59 seconds" then
	# "About a minute") moves a table's columns: compare those tables
	# without their padding
	if [[ "$want" == *"<DUR>"* ]] && [ "$(tr -s ' ' <<<"$want")" = "$(tr -s ' ' <<<"$got")" ]; then
		return 0
	fi
	echo "=== differs: $1"
	diff -u <(echo "$want") <(echo "$got") | tail -n +3
	return 1
}

# golden_section FILE SECTION: runs the section's lines; fails listing every
# line whose two sides differ. A compared line runs once the @after lines
# that follow it are read.
golden_section() {
	local file=$GOLDEN_LISTS_DIR/$1 want=$2 section="" line
	local pending="" before="" after="" stdin=/dev/null failed=0 ran=0
	golden_flush() {
		[ -n "$pending" ] || return 0
		ran=$((ran + 1))
		golden_compare "$pending" "$stdin" "$before" "$after" || failed=$((failed + 1))
		pending="" before="" after="" stdin=/dev/null
	}
	while IFS= read -r line || [ -n "$line" ]; do
		case "$line" in
		"["*"]") section=${line:1:-1}; continue ;;
		"" | "#"*) continue ;;
		esac
		[ "$section" = "$want" ] || continue
		case "$line" in
		"@after "*) after+="${line#@after }"$'\n'; continue ;;
		esac
		golden_flush
		case "$line" in
		"@before "*) before+="${line#@before }"$'\n' ;;
		"@stdin "*) stdin="$GOLDEN_DIR/${line#@stdin }" ;;
		"@sh "*) eval "${line#@sh }" >/dev/null 2>&1 </dev/null ;;
		*) pending=$line ;;
		esac
	done <"$file"
	golden_flush
	echo "$ran lines, $failed differ"
	[ "$ran" -gt 0 ] && [ "$failed" -eq 0 ]
}

# The sections of a list file, in order (to check that every one has a test).
golden_sections() {
	sed -nE 's/^\[(.*)\]$/\1/p' "$GOLDEN_LISTS_DIR/$1"
}
