"""Free 127.0.0.1 ports for the stand-in servers of the tests and benches (Dovecot, Kannel, WeChat, SMTP).

`HOTLINE_TEST_PORTS=26000-26999` keeps them inside a given range (several people sharing one machine each take a
range); without it, the suite's own share `default` is used, or any port the system gives when none is named.
"""

from __future__ import annotations

import os
import random
import socket


def port_range(default: range | None = None) -> range | None:
    spec = os.environ.get("HOTLINE_TEST_PORTS", "")
    if spec:
        low, _, high = spec.partition("-")
        return range(int(low), int(high or low) + 1)
    return default


def free_port(default: range | None = None) -> int:
    ports = port_range(default)
    if ports is None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])
    candidates = list(ports)
    random.shuffle(candidates)  # two processes asking at once rarely get the same one
    for port in candidates:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")
