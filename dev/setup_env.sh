#!/usr/bin/env bash
# Creates ./.venv with torch, detectron2, siamtrack's dependencies and siamtrack itself (editable).
#
# detectron2 is not on PyPI. In order of preference this installs:
#   1. the official detectron2 if it is already importable in the venv, or if its source repository
#      answers within D2_PROBE_TIMEOUT seconds and builds within D2_BUILD_TIMEOUT seconds;
#   2. otherwise ("fallback") PyPI's pb1-detectron2==0.6 sdist (detectron2 0.6's Python sources)
#      without compiled ops, plus a placeholder detectron2._C (dev/detectron2_placeholder_C.py).
# SIAMTRACK_D2=official|fallback|auto (default auto) forces a choice.
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
STAMP="$VENV/.siamtrack-setup-ok"

die() { echo "setup: ERROR: $*" >&2; exit 1; }
step() { echo "==> setup: $*"; }

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
probe_dir=$(mktemp -d)
trap 'rm -rf "$probe_dir"' EXIT
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
if [ "$flavour" = official ] || { [ "$flavour" = fallback ] && [ "$SIAMTRACK_D2" != official ]; }; then
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
