#!/usr/bin/env bash
# Runs berth's test tiers and ends with one line "N passed, N failed, N skipped".
#   unit         cmocka binaries built by make ($BUILD/tests/test_*)
#   integration  bats files that each start a private berthd (tests/integration)
#   compat       the real docker CLI against a private berthd (tests/compat)
# TIERS="unit integration compat" selects tiers; BATS_FILTER narrows bats tests.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/release}
TIERS=${TIERS:-unit integration compat}
export BERTH_BIN_DIR="$PWD/$BUILD/bin"
passed=0 failed=0 skipped=0
failures=()

run_unit() {
	local t out p f
	for t in "$BUILD"/tests/test_*; do
		[ -x "$t" ] || continue
		out=$(CMOCKA_MESSAGE_OUTPUT=stdout "$t" 2>&1)
		p=$(grep -oE '^\[  PASSED  \] [0-9]+' <<<"$out" | grep -oE '[0-9]+$' || true)
		f=$(grep -oE '^\[  FAILED  \] [0-9]+ test' <<<"$out" | grep -oE '[0-9]+' || true)
		passed=$((passed + ${p:-0}))
		if [ -n "$f" ] || ! grep -q '^\[  PASSED  \]' <<<"$out"; then
			failed=$((failed + ${f:-1}))
			failures+=("unit: $(basename "$t")")
			echo "$out" | grep -E 'FAILED|ERROR|error|Assert' | head -20
		fi
		echo "unit: $(basename "$t"): ${p:-0} passed${f:+, $f failed}"
	done
}

run_bats() {
	local tier=$1 out line
	local files=(tests/"$tier"/*.bats)
	[ -e "${files[0]}" ] || return 0
	out=$(bats --tap ${BATS_FILTER:+--filter "$BATS_FILTER"} "${files[@]}" 2>&1)
	echo "$out" | sed "s/^/$tier: /"
	while IFS= read -r line; do
		case "$line" in
		"ok "*"# skip"*) skipped=$((skipped + 1)) ;;
		"ok "*) passed=$((passed + 1)) ;;
		"not ok "*) failed=$((failed + 1)); failures+=("$tier: ${line#not ok }") ;;
		esac
	done <<<"$out"
}

for tier in $TIERS; do
	case "$tier" in
	unit) run_unit ;;
	integration | compat) run_bats "$tier" ;;
	*) echo "unknown tier $tier" >&2; exit 2 ;;
	esac
done

if [ ${#failures[@]} -gt 0 ]; then
	echo "failed:"
	printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
