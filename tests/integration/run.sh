#!/bin/sh
# Run the hikyaku integration tests inside a private network and mount
# namespace (only loopback; tests may mount a tmpfs). Falls back to the host
# network, loudly, when namespaces are unavailable.
#   tests/integration/run.sh [pytest args...]
#   HIKYAKU_BIN=/path/to/hikyaku tests/integration/run.sh -k smuggl
set -eu
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3   # Debian's python: python3-pytest, python3-aiosmtpd
if [ "${HIKYAKU_IN_NS:-}" != 1 ] && unshare --net --mount -- true 2>/dev/null; then
	exec unshare --net --mount -- env HIKYAKU_IN_NS=1 sh -c \
		'ip link set lo up && cd "$0" && py=$1 && shift && exec "$py" -m pytest "$@"' "$here" "$py" "$@"
fi
if [ "${HIKYAKU_IN_NS:-}" != 1 ]; then
	echo "run.sh: WARNING: network namespaces unavailable; running on the host loopback" >&2
fi
cd "$here"
exec "$py" -m pytest "$@"
