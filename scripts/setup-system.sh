#!/usr/bin/env bash
# Installs the Debian packages karte needs to build and run, if any are missing.
# Root: installs them with apt-get. Otherwise: prints the exact command and stops.
# Idempotent and quick when everything is present.
set -euo pipefail

missing=()
need_cmd() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
need_file() { compgen -G "$1" >/dev/null || missing+=("$2"); }

need_cmd cmake cmake                                   # llama.cpp build
need_cmd clang clang                                   # bindgen for llama.cpp
need_file '/usr/lib/llvm-*/lib/libclang*.so*' libclang-dev
need_cmd g++ g++
need_cmd make make
need_cmd pkg-config pkg-config
need_cmd python3 python3
python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)   # model download (PyPI)
need_file /usr/share/mecab/dic/ipadic/Noun.csv mecab-ipadic          # IPADIC sources (EUC-JP)
need_cmd tmux tmux                                     # end-to-end tests
need_cmd mecab mecab                                   # extraction benchmark peer
need_file '/var/lib/mecab/dic/ipadic-utf8/sys.dic' mecab-ipadic-utf8
need_file /usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf fonts-ipaexfont-gothic  # PDF letter font
need_file /usr/share/fonts/truetype/ipamj/ipamjm.ttf fonts-ipamj-mincho  # PDF: 𠮷 and other 人名 variants
need_cmd pdftotext poppler-utils                       # PDF letter tests (pdftotext, pdftoppm)

# De-duplicate while keeping order.
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | awk 'NF && !seen[$0]++')
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  echo "karte setup: installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends ${missing[*]}
else
  echo "karte setup: these system packages are missing: ${missing[*]}" >&2
  echo "run this as root, then run the command again:" >&2
  echo "  sudo apt-get update && sudo $cmd" >&2
  exit 1
fi
