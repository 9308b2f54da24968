#!/usr/bin/env bash
# Installs everything the platform needs into .venv (idempotent). Used by start.sh, test.sh and CI.
# --test also installs what the tests drive for real: Debian's Chromium and CJK fonts (browser tests) and
# Kannel with its fake SMSC (SMS tests).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get -o DPkg::Lock::Timeout=600 update -qq \
      && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@" >/dev/null
  else
    echo "请先安装系统软件包：$*（需要 root 权限）" >&2
    exit 1
  fi
}

# Debian splits venv and the C toolchain out of the base python package.
if ! "$PYTHON" -c "import venv, ensurepip" >/dev/null 2>&1; then
  apt_install python3-venv
fi

if [ "${1:-}" = "--test" ]; then
  [ -x /usr/bin/chromium ] || apt_install chromium fonts-noto-cjk
  [ -x /usr/lib/kannel/test/fakesmsc ] || apt_install kannel kannel-extras
  # E-mail intake tests start a private Dovecot IMAP server on 127.0.0.1 (the system service stays unused).
  [ -x /usr/sbin/dovecot ] || apt_install dovecot-imapd
  # Telephony end-to-end tests: SIPp (citizens) and baresip (agents) besides the runtime below.
  { command -v sipp && command -v baresip; } >/dev/null 2>&1 || apt_install sip-tester baresip-core
fi
# Telephony runtime (issue 13): Kamailio in front of the pjsua2 media node, espeak-ng + sox for prompts.
# Optional: without root the platform runs with telephony shown as off.
if [ "$(id -u)" = 0 ] && ! { command -v kamailio && command -v espeak-ng && command -v sox; } >/dev/null 2>&1; then
  apt_install kamailio espeak-ng sox
fi

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# Front-end packages (htmx, Bootstrap, ECharts) from the npm registry, never committed.
if ! command -v npm >/dev/null 2>&1; then
  apt_install nodejs npm
fi
npm_stamp=node_modules/.installed-$(sha1sum package-lock.json | cut -c1-12)
if [ ! -f "$npm_stamp" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  touch "$npm_stamp"
fi

stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[dev]"
  rm -f .venv/.installed-* && touch "$stamp"
fi
