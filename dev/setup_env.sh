#!/usr/bin/env bash
# Creates ./.venv with torch, detectron2, siamtrack's dependencies and siamtrack itself (editable).
#
# detectron2 is not on PyPI. In order of preference this installs:
#   1. the official detectron2 if it is already importable in the venv, or if its source repository
#      answers within D2_PROBE_TIMEOUT seconds and builds within D2_BUILD_TIMEOUT seconds;
#   2. otherwise ("fallback") PyPI's pb1-detectron2==0.6 sdist (detectron2 0.6's Python sources)
#      without compiled ops, plus a placeholder detectron2._C (dev/detectron2_placeholder_C.py).
# SIAMTRACK_D2=official|fallback|auto (default auto) forces a choice.
# D2_SOURCE=/path/to/detectron2 (a source folder, e.g. a git checkout, or an archive: .tar.gz, .zip)
# builds the official detectron2 with its compiled ops from that local source instead of git
# (implies SIAMTRACK_D2=official). An archive is checked against D2_SOURCE_SHA256, or for a
# vendored snapshot (../shared/vendor/detectron2-<commit>.tar.gz) against its known sha256.
# `make test-official` uses this for a second venv, .venv-official.
#
# The venv is trusted (Makefile targets stop re-running this script) only once the stamp file
# $VENV/.siamtrack-setup-ok is written, as the very last step; a failed run leaves no stamp.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${VENV:-$ROOT/.venv}
PYTHON=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-"torch==2.14.1 torchvision==0.29.1"}
SIAMTRACK_D2=${SIAMTRACK_D2:-auto}
D2_REPO=${D2_REPO:-https://github.com/facebookresearch/detectron2.git}
D2_PROBE_TIMEOUT=${D2_PROBE_TIMEOUT:-15}
D2_BUILD_TIMEOUT=${D2_BUILD_TIMEOUT:-2400}
D2_FALLBACK_SPEC="pb1-detectron2==0.6"
D2_FALLBACK_SHA256=5d2e9e51e523ec72f6a31cca04b0a515492e9514b773a3d134cedc0677170b29
D2_SOURCE=${D2_SOURCE:-}
D2_SOURCE_SHA256=${D2_SOURCE_SHA256:-}
STAMP="$VENV/.siamtrack-setup-ok"
D2_RECORD="$VENV/.siamtrack-d2-source"  # line 1: D2_SOURCE (read by the Makefile); line 2: its identity

die() { echo "setup: ERROR: $*" >&2; exit 1; }
step() { echo "==> setup: $*"; }
# sha256 of the detectron2 source snapshots in ../shared/vendor/ (see its README), by file name
known_d2_sha256() {
  case "$1" in
    detectron2-02b5c4e.tar.gz) echo 242b9d82c5479746ea3e4bbec5c0f4bea881ded85df269ad87e3f7de516a4c56 ;;
  esac
}

case "$SIAMTRACK_D2" in auto|official|fallback) ;; *)
  die "SIAMTRACK_D2='$SIAMTRACK_D2' is not one of auto, official, fallback" ;;
esac

# --- 1. prerequisites: stop before touching .venv if anything is missing --------------------------
command -v "$PYTHON" >/dev/null 2>&1 ||
  die "'$PYTHON' not found on PATH: install Python 3.10 or newer, or run 'make setup PYTHON=/path/to/python3'"
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' ||
  die "$PYTHON is $("$PYTHON" -V 2>&1); siamtrack needs Python 3.10 or newer (pass PYTHON=/path/to/python3.10+)"
"$PYTHON" -m pip --version >/dev/null 2>&1 ||
  die "$PYTHON has no pip: install it (Debian/Ubuntu: apt install python3-pip)"
"$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1 ||
  die "$PYTHON cannot create virtual environments: install venv (Debian/Ubuntu: apt install python3-venv)"

tmp_dir=$(mktemp -d)
trap 'rm -rf "$tmp_dir"' EXIT

# A local detectron2 source is checked (an archive unpacked into $tmp_dir) before the venv is touched.
d2_src_dir="" d2_source_id=""
check_d2_tree() {  # DIR WHAT
  [ -f "$1/setup.py" ] && [ -f "$1/detectron2/__init__.py" ] ||
    die "$2 is not a detectron2 source tree (expected setup.py and detectron2/__init__.py in it)"
}
if [ -n "$D2_SOURCE" ]; then
  [ "$SIAMTRACK_D2" != fallback ] ||
    die "D2_SOURCE='$D2_SOURCE' asks for the official detectron2 but SIAMTRACK_D2=fallback: drop one of them"
  SIAMTRACK_D2=official
  [ -e "$D2_SOURCE" ] ||
    die "D2_SOURCE='$D2_SOURCE' does not exist: give a detectron2 source folder (git checkout) or archive (.tar.gz, .zip)"
  d2_parent=$(cd "$(dirname "$D2_SOURCE")" && pwd)
  D2_SOURCE="${d2_parent%/}/$(basename "$D2_SOURCE")"  # absolute, as the Makefile's $(abspath)
  if [ -d "$D2_SOURCE" ]; then
    check_d2_tree "$D2_SOURCE" "D2_SOURCE='$D2_SOURCE'"
    d2_source_id="folder"
    if [ -e "$D2_SOURCE/.git" ] && rev=$(git -C "$D2_SOURCE" rev-parse HEAD 2>/dev/null); then
      d2_source_id="folder at git commit $rev"
    fi
    # Build a copy: the checkout gets no build/ or egg-info, and no stale objects are reused.
    d2_src_dir="$tmp_dir/detectron2"
    "$PYTHON" - "$D2_SOURCE" "$d2_src_dir" <<'PY' || die "could not copy $D2_SOURCE"
import shutil, sys
src, dst = sys.argv[1:]
skip = {".git", "build", "dist", "detectron2.egg-info"}
shutil.copytree(src, dst, symlinks=True, ignore=lambda d, names: skip & set(names) if d == src else [])
PY
  elif [ -f "$D2_SOURCE" ]; then
    name=$(basename "$D2_SOURCE")
    case "$name" in *.tar | *.tar.gz | *.tgz | *.tar.bz2 | *.tar.xz | *.zip) ;; *)
      die "D2_SOURCE='$D2_SOURCE' is neither a folder nor a .tar(.gz|.bz2|.xz), .tgz or .zip archive" ;;
    esac
    sha=$("$PYTHON" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$D2_SOURCE")
    expected=${D2_SOURCE_SHA256:-$(known_d2_sha256 "$name")}
    if [ -z "$expected" ]; then
      step "$name: sha256 $sha (not checked; set D2_SOURCE_SHA256 to check it)"
    elif [ "$sha" != "$expected" ]; then
      die "$D2_SOURCE has sha256 $sha, expected $expected: the file is damaged or not the one meant"
    fi
    d2_source_id="archive sha256 $sha"
    "$PYTHON" - "$D2_SOURCE" "$tmp_dir/unpacked" <<'PY' || die "could not unpack $D2_SOURCE"
import shutil, sys
try:
    shutil.unpack_archive(sys.argv[1], sys.argv[2], filter="data")
except TypeError:  # a Python without extraction filters
    shutil.unpack_archive(sys.argv[1], sys.argv[2])
PY
    d2_src_dir="$tmp_dir/unpacked"
    entries=("$d2_src_dir"/*)  # the tree itself, or one top folder (git archive --prefix=detectron2/)
    [ -f "$d2_src_dir/setup.py" ] || [ "${#entries[@]}" -ne 1 ] || d2_src_dir=${entries[0]}
    check_d2_tree "$d2_src_dir" "the archive D2_SOURCE='$D2_SOURCE'"
  else
    die "D2_SOURCE='$D2_SOURCE' is neither a folder nor an archive"
  fi
  command -v "${CXX:-c++}" >/dev/null 2>&1 ||
    die "building detectron2's compiled ops needs a C++ compiler: '${CXX:-c++}' not found (Debian/Ubuntu: apt install g++)"
fi

rm -f "$STAMP"
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
  step "reusing $VENV"
else
  step "creating $VENV"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV" || die "'$PYTHON -m venv $VENV' failed"
fi
VPY="$VENV/bin/python"
pip_install() { "$VPY" -m pip install --disable-pip-version-check "$@"; }

step "checking that pip can reach the package index"
probe_dir="$tmp_dir/probe"
"$VPY" -m pip download --disable-pip-version-check --quiet --no-deps --dest "$probe_dir" six >/dev/null 2>&1 ||
  die "pip cannot download from the package index (PyPI): check the network, proxy or pip.conf"

# --- 2. torch ------------------------------------------------------------------------------------
step "installing $TORCH_SPEC"
# shellcheck disable=SC2086
pip_install $TORCH_SPEC || die "could not install '$TORCH_SPEC' (set TORCH_SPEC to a torch/torchvision pair your platform has)"

# --- 3. detectron2 -------------------------------------------------------------------------------
d2_flavour() {
  "$VPY" - <<'EOF' 2>/dev/null || echo missing
import importlib
try:
    importlib.import_module("detectron2")
except Exception:
    print("missing"); raise SystemExit
try:
    c = importlib.import_module("detectron2._C")
except Exception:
    print("broken"); raise SystemExit
print("fallback" if getattr(c, "__siamtrack_placeholder__", False) else "official")
EOF
}

install_official_from_source() {
  local t0=$SECONDS
  step "building official detectron2 with its compiled ops from $D2_SOURCE (about 4 min on 2 cores)"
  rm -f "$D2_RECORD"
  timeout "$D2_BUILD_TIMEOUT" "$VPY" -m pip install --disable-pip-version-check --no-build-isolation \
    "$d2_src_dir" || return 1
  printf '%s\n%s\n' "$D2_SOURCE" "$d2_source_id" >"$D2_RECORD"
  step "official detectron2 built and installed in $((SECONDS - t0)) s"
}

install_official() {
  command -v git >/dev/null 2>&1 || { echo "setup: git not found, cannot fetch official detectron2"; return 1; }
  if ! timeout "$D2_PROBE_TIMEOUT" git ls-remote "$D2_REPO" HEAD >/dev/null 2>&1; then
    echo "setup: detectron2 source repository $D2_REPO did not answer within ${D2_PROBE_TIMEOUT}s"
    return 1
  fi
  step "building official detectron2 from $D2_REPO (up to ${D2_BUILD_TIMEOUT}s)"
  timeout "$D2_BUILD_TIMEOUT" "$VPY" -m pip install --disable-pip-version-check --no-build-isolation \
    "git+$D2_REPO"
}

install_fallback() {
  step "installing pure-Python detectron2 fallback ($D2_FALLBACK_SPEC, no compiled ops)"
  local src_dir="$VENV/src"
  rm -rf "$src_dir" && mkdir -p "$src_dir"
  "$VPY" -m pip download --disable-pip-version-check --quiet --no-deps --no-binary :all: \
    --no-build-isolation --dest "$src_dir" "$D2_FALLBACK_SPEC" ||
    die "could not download $D2_FALLBACK_SPEC from PyPI"
  "$VPY" "$ROOT/dev/prepare_detectron2_fallback.py" "$src_dir" "$D2_FALLBACK_SHA256" \
    "$ROOT/dev/detectron2_placeholder_C.py" || die "could not prepare the detectron2 fallback sources"
  # DefaultTrainer writes TensorBoard logs; the constraints pin what 0.6 needs (pillow<10).
  pip_install --no-build-isolation -c "$ROOT/dev/constraints-detectron2-fallback.txt" \
    "$src_dir/detectron2-src" tensorboard ||
    die "installing the detectron2 fallback failed"
}

flavour=$(d2_flavour)
if [ -n "$D2_SOURCE" ]; then
  if [ "$flavour" = official ] &&
    [ "$(cat "$D2_RECORD" 2>/dev/null)" = "$(printf '%s\n%s' "$D2_SOURCE" "$d2_source_id")" ]; then
    step "official detectron2 from $D2_SOURCE already installed"
  else
    if [ "$flavour" != missing ]; then
      step "replacing the installed detectron2 ($flavour)"
      "$VPY" -m pip uninstall --disable-pip-version-check -y detectron2 || die "could not uninstall detectron2"
    fi
    install_official_from_source ||
      die "building official detectron2 from $D2_SOURCE failed (see above; it needs a C++ compiler and Python's headers)"
  fi
elif [ "$flavour" = official ] || { [ "$flavour" = fallback ] && [ "$SIAMTRACK_D2" != official ]; }; then
  step "detectron2 already installed ($flavour)"
elif [ "$SIAMTRACK_D2" != fallback ] && install_official; then
  step "official detectron2 installed"
elif [ "$SIAMTRACK_D2" = official ]; then
  die "SIAMTRACK_D2=official but the official detectron2 could not be installed (see above)"
else
  install_fallback
fi
flavour=$(d2_flavour)
case "$flavour" in official|fallback) ;; *) die "detectron2 is $flavour after installation" ;; esac
if [ "$flavour" = fallback ]; then  # keep the installed placeholder in sync with dev/
  installed_c=$("$VPY" -c 'import detectron2._C as c; print(c.__file__)')
  cp "$ROOT/dev/detectron2_placeholder_C.py" "$installed_c"
fi

# --- 4. siamtrack and its remaining dependencies -------------------------------------------------
step "installing siamtrack (editable) and test/dev dependencies"
constraints=()
[ "$flavour" = fallback ] && constraints=(-c "$ROOT/dev/constraints-detectron2-fallback.txt")
pip_install --no-build-isolation "${constraints[@]}" -r "$ROOT/dev/requirements.txt" -e "$ROOT" ||
  die "installing siamtrack's dependencies failed"

"$VPY" -m siamtrack.collect_env || die "siamtrack does not import in $VENV"
touch "$STAMP"
step "done: $VENV is ready (detectron2: $flavour)"
