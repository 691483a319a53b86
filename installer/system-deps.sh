#!/usr/bin/env bash
# Installs the few system libraries Qt (PySide6 wheels) and the Cython build need, when
# they are missing and we can (root + apt). Otherwise it says exactly what to install.
# The libxcb-* ones are for a real window on X11 (`make run`); tests and screenshots run
# offscreen without them, but a fresh desktop machine needs them to open the HMI.
set -u
declare -A LIBS=(
  [libGL.so.1]=libgl1 [libEGL.so.1]=libegl1 [libfontconfig.so.1]=libfontconfig1
  [libxkbcommon.so.0]=libxkbcommon0 [libglib-2.0.so.0]=libglib2.0-0 [libdbus-1.so.3]=libdbus-1-3
  [libxkbcommon-x11.so.0]=libxkbcommon-x11-0 [libxcb-icccm.so.4]=libxcb-icccm4
  [libxcb-keysyms.so.1]=libxcb-keysyms1 [libxcb-cursor.so.0]=libxcb-cursor0 [libxcb-image.so.0]=libxcb-image0
  [libxcb-render-util.so.0]=libxcb-render-util0 [libxcb-shape.so.0]=libxcb-shape0
  [libxcb-randr.so.0]=libxcb-randr0 [libxcb-xkb.so.1]=libxcb-xkb1
  [libpulse.so.0]=libpulse0  # Qt Multimedia's sound output (the alarm horn); PipeWire serves it too
)
missing=()
for lib in "${!LIBS[@]}"; do
  ldconfig -p 2>/dev/null | grep -q "$lib" || missing+=("${LIBS[$lib]}")
done
command -v cc >/dev/null 2>&1 || missing+=(gcc)
# ext._sqlite_read is compiled against the system SQLite (the library Python's sqlite3 uses): its header
[ -e /usr/include/sqlite3.h ] || missing+=(libsqlite3-dev)
fc-list 2>/dev/null | grep -qi dejavu || missing+=(fonts-dejavu-core)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages: ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null && exit 0
fi
echo "Linewise needs these system packages (Debian/Ubuntu names): ${missing[*]}" >&2
echo "Install them with: sudo apt-get install ${missing[*]}" >&2
exit 1
