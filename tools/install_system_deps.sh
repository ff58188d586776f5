#!/bin/sh
# System data the offline defaults need: Fashion-MNIST from the Debian package dataset-fashion-mnist.
set -u
# Chromium (Debian package `chromium`): the browser tests (tests/test_explorer.py, tests/test_docs.py) drive it
# with Playwright through its executable path; Playwright's own browser downloads are not used.
if ! command -v chromium >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -o DPkg::Lock::Timeout=600 -y -q chromium || { apt-get -o DPkg::Lock::Timeout=600 update -q && apt-get install -o DPkg::Lock::Timeout=600 -y -q chromium; } || exit 1
    echo "installed chromium"
  else
    echo "Chromium is not installed and this script cannot install it (needs apt-get and root): sudo apt-get install chromium"
  fi
fi
DIR=/usr/share/datasets/fashion-mnist
if [ -f "$DIR/train-images-idx3-ubyte.gz" ]; then
  echo "Fashion-MNIST found in $DIR"; exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -o DPkg::Lock::Timeout=600 -y -q dataset-fashion-mnist || { apt-get -o DPkg::Lock::Timeout=600 update -q && apt-get install -o DPkg::Lock::Timeout=600 -y -q dataset-fashion-mnist; } || exit 1
  echo "installed dataset-fashion-mnist"
  exit 0
fi
cat <<MSG
Fashion-MNIST is not installed and this script cannot install it (needs apt-get and root). Do one of:
  sudo apt-get install dataset-fashion-mnist          # Debian/Ubuntu
  spae data fashion-mnist --download --root DIR       # fetch the 4 IDX files from the dataset's home,
                                                      # then set data_root = DIR in settings.ini
MSG
exit 1
