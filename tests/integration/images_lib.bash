# Helpers for the image tests: a second private berthd, and archives built
# by hand (good ones and the bad ones a load must refuse).

# second_start: another berthd on its own data root; sets ROOT2, SOCK2, PID2.
second_start() {
	ROOT2=$(mktemp -d /tmp/berth-test2.XXXXXX)
	SOCK2="$ROOT2/berth.sock"
	"$BERTHD" --data-root "$ROOT2/data" --exec-root "$ROOT2/run" --pidfile "$ROOT2/berthd.pid" \
		-H "unix://$SOCK2" >"$ROOT2/berthd.log" 2>&1 &
	PID2=$!
	berth_wait_socket "$SOCK2" || { cat "$ROOT2/berthd.log" >&2; return 1; }
}

second_stop() {
	if [ -n "${PID2:-}" ] && kill -0 "$PID2" 2>/dev/null; then
		kill "$PID2"
		wait "$PID2" 2>/dev/null || true
	fi
	[ -n "${ROOT2:-}" ] && rm -rf "$ROOT2"
	PID2=""
	return 0
}

# api2 METHOD PATH [curl args...]: api() against the second berthd.
api2() {
	local method=$1 path=$2
	shift 2
	curl -s --unix-socket "$SOCK2" -X "$method" -w '\n%{http_code}' "$@" "http://berth$path"
}

# image_state DATAROOT: what the image store holds on disk, for "no trace"
# checks: one line per image record, layer and staging entry.
image_state() {
	local root=$1/image
	(cd "$root" && ls images layers tmp blobs/sha256 2>/dev/null)
}

# mk_archive OUT LAYER.tar... : a docker-save archive (Docker 25+ layout)
# of one image tagged bad:latest whose layers are the given tars, as they
# are (so a layer may be anything). Diff IDs are the tars' digests unless
# DIFF_IDS (space-separated) says otherwise.
mk_archive() {
	python3 - "$@" <<'EOF'
import hashlib, io, json, os, sys, tarfile
out, layers = sys.argv[1], sys.argv[2:]
blobs = [open(l, 'rb').read() for l in layers]
digests = ['sha256:' + hashlib.sha256(b).hexdigest() for b in blobs]
diff_ids = os.environ.get('DIFF_IDS', '').split() or digests
cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
                  "created": "2024-01-01T00:00:00Z",
                  "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
ch = hashlib.sha256(cfg).hexdigest()
with tarfile.open(out, 'w') as t:
    def add(name, data):
        ti = tarfile.TarInfo(name); ti.size = len(data); ti.mode = 0o644
        t.addfile(ti, io.BytesIO(data))
    add('blobs/sha256/' + ch, cfg)
    for d, b in zip(digests, blobs):
        add('blobs/sha256/' + d[7:], b)
    add('manifest.json', json.dumps([{"Config": "blobs/sha256/" + ch, "RepoTags": ["bad:latest"],
        "Layers": ["blobs/sha256/" + d[7:] for d in digests]}]).encode())
EOF
}

# mk_oci_archive OUT LAYER.tar: an OCI image layout archive of one image
# (bad:latest) whose one layer is LAYER.tar, uncompressed. The manifest names
# the layer blob by BLOB_DIGEST when set (a digest its bytes do not have).
mk_oci_archive() {
	python3 - "$@" <<'EOF'
import hashlib, io, json, os, sys, tarfile
out, layer = sys.argv[1], sys.argv[2]
sha = lambda b: 'sha256:' + hashlib.sha256(b).hexdigest()
blob = open(layer, 'rb').read()
name = os.environ.get('BLOB_DIGEST') or sha(blob)
cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
                  "rootfs": {"type": "layers", "diff_ids": [sha(blob)]}}).encode()
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(cfg),
               "size": len(cfg)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": name,
                "size": len(blob)}]}).encode()
index = json.dumps({"schemaVersion": 2, "manifests": [{"mediaType":
    "application/vnd.oci.image.manifest.v1+json", "digest": sha(man), "size": len(man),
    "annotations": {"io.containerd.image.name": "bad:latest"}}]}).encode()
with tarfile.open(out, 'w') as t:
    def add(path, data):
        ti = tarfile.TarInfo(path); ti.size = len(data); ti.mode = 0o644
        t.addfile(ti, io.BytesIO(data))
    add('oci-layout', b'{"imageLayoutVersion":"1.0.0"}')
    add('index.json', index)
    for b in (cfg, man):
        add('blobs/sha256/' + sha(b)[7:], b)
    add('blobs/sha256/' + name[7:], blob)
EOF
}

# mk_evil_layer OUT KIND: a layer tar with a "../" entry (dotdot) or a file
# written through a symlink that leads out of the layer (symlink).
mk_evil_layer() {
	python3 - "$1" "$2" <<'EOF'
import io, sys, tarfile
out, kind = sys.argv[1], sys.argv[2]
with tarfile.open(out, 'w', format=tarfile.PAX_FORMAT) as t:
    def add(name, data=b'pwned\n', typ=tarfile.REGTYPE, link=''):
        ti = tarfile.TarInfo(name); ti.type = typ; ti.linkname = link
        ti.size = len(data) if typ == tarfile.REGTYPE else 0
        t.addfile(ti, io.BytesIO(data) if typ == tarfile.REGTYPE else None)
    add('ok.txt')
    if kind == 'dotdot':
        add('../../../../tmp/berth-dotdot-pwned')
    else:
        add('escape', typ=tarfile.SYMTYPE, link='/tmp')
        add('escape/berth-symlink-pwned')
EOF
}

# mk_many_files OUT N: a layer of N small files, slow enough to extract that
# a test can kill berthd in the middle of it.
mk_many_files() {
	python3 - "$1" "$2" <<'EOF'
import io, sys, tarfile
out, n = sys.argv[1], int(sys.argv[2])
with tarfile.open(out, 'w', format=tarfile.PAX_FORMAT) as t:
    for i in range(n):
        data = (b'%d\n' % i) * 64
        ti = tarfile.TarInfo('d%03d/f%06d' % (i % 500, i)); ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
EOF
}

# mk_big_archive DIR: DIR/big.tar, an archive of two layers (DIR/a.tar,
# DIR/b.tar) of random bytes, 44 MiB in all: past h2o's 32 MiB in-memory
# limit, so the request body sits in h2o's file-backed buffer.
mk_big_archive() {
	local d=$1 l mib
	for l in a b; do
		mib=$([ "$l" = a ] && echo 24 || echo 20)
		mkdir -p "$d/src-$l"
		head -c $((mib << 20)) /dev/urandom >"$d/src-$l/big-$l"
		tar -C "$d/src-$l" -cf "$d/$l.tar" "big-$l"
		rm -rf "$d/src-$l"
	done
	mk_archive "$d/big.tar" "$d/a.tar" "$d/b.tar"
}

# same_layers SOCK DIR: the image bad:latest on SOCK has the diff IDs of
# DIR/a.tar and DIR/b.tar, and saved again its layers are those bytes.
same_layers() {
	local sock=$1 d=$2 want got i=0 l
	want=$(printf '["sha256:%s","sha256:%s"]' "$(sha256sum <"$d/a.tar" | cut -d' ' -f1)" \
		"$(sha256sum <"$d/b.tar" | cut -d' ' -f1)")
	got=$(curl -s --unix-socket "$sock" http://berth/images/bad:latest/json | jq -c .RootFS.Layers)
	[ "$got" = "$want" ] || { echo "layers: $got, want $want"; return 1; }
	curl -sf --unix-socket "$sock" "http://berth/images/bad:latest/get" -o "$d/saved.tar"
	for l in a b; do
		tar -xOf "$d/saved.tar" "$(tar -xOf "$d/saved.tar" manifest.json | jq -r ".[0].Layers[$i]")" |
			cmp - "$d/$l.tar" || return 1
		i=$((i + 1))
	done
	rm -f "$d/saved.tar"
}

require_python() {
	command -v python3 >/dev/null 2>&1 || skip "python3 is needed to build test archives"
}
