"""Signed partner requests (API-5): the cost of verifying one, and the rate of whole signed requests.

  (a) signature + replay check (integrations.auth.verify: partner look-up, HMAC, nonce in the shared cache)
      per request, p50 / p99 — target < 1 ms
  (b) whole signed requests through Django and DRF (the ping endpoint, with its call-log row) in one process,
      for 10 s: requests/s on one core; × 2 for the machine's two cores — target 500 signed requests/s on 2 cores

Uses the database in DATABASE_URL (migrated if needed) and the shared cache (Redis when HOTLINE_REDIS_URL is set,
as in production). Prints figures beside targets; asserts nothing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hotline_bench HOTLINE_REDIS_URL=redis://127.0.0.1:6379/1 \
        python -m bench.signing_bench [--algorithm HMAC-SM3] [--seconds 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from django.core.management import call_command
from django.db import connection
from django.test import Client, RequestFactory

from hotline.integrations import signing
from hotline.integrations.auth import verify
from hotline.integrations.models import Partner
from hotline.integrations.services import partner_create
from hotline.orgs.models import Role, Unit, User
from hotline.orgs.services import user_create

PING = "/api/v1/partner/ping/"


def _partner(algorithm: str) -> tuple[Partner, bytes]:
    admin = User.objects.filter(roles__role=Role.ADMIN).first() or user_create(
        username=f"bench-admin-{time.time_ns()}",
        password=f"pw-{time.time_ns()}",
        full_name="bench",
        unit=Unit.objects.order_by("pk").first(),
        roles=[Role.ADMIN],
    )
    partner, issued = partner_create(
        actor=admin,
        code=f"bench-{time.time_ns()}",
        name="bench",
        sign_method=algorithm,
        rate_per_minute=100_000,
    )
    return partner, issued.secret.encode()


def _headers(partner: Partner, secret: bytes, body: bytes, method: str) -> dict[str, str]:
    raw = signing.signed_headers(
        partner=partner.code,
        secret=secret,
        method=method,
        path=PING,
        body=body,
        algorithm=partner.sign_method,
    )
    return {"HTTP_" + key.upper().replace("-", "_"): value for key, value in raw.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--algorithm", default=signing.HMAC_SHA256, choices=signing.ALGORITHMS)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--samples", type=int, default=5000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    partner, secret = _partner(args.algorithm)
    body = b'{"case": "20261207000001", "status": "handling"}'
    print(
        f"{args.algorithm}; load {os.getloadavg()[0]:.2f}; cache: {os.environ.get('HOTLINE_REDIS_URL') or 'local'}"
    )

    factory = RequestFactory()
    timings = []
    cpu_started = time.process_time()
    for _ in range(args.samples):
        request = factory.post(
            PING, data=body, content_type="application/json", **_headers(partner, secret, body, "POST")
        )
        started = time.perf_counter()
        verify(request)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p50, p99 = statistics.median(timings), timings[int(len(timings) * 0.99)]
    cpu_ms = (time.process_time() - cpu_started) / args.samples * 1000
    print(
        f"(a) signature + replay check  p50 {p50:.3f} ms  p99 {p99:.3f} ms wall, {cpu_ms:.3f} CPU-ms each (incl. "
        "building the test request)   target < 1 ms"
    )

    client = Client(HTTP_HOST="127.0.0.1")
    db_started = _backend_cpu()
    done, cpu_started, started = 0, time.process_time(), time.perf_counter()
    while time.perf_counter() - started < args.seconds:
        response = client.post(
            PING, data=body, content_type="application/json", **_headers(partner, secret, body, "POST")
        )
        assert response.status_code == 200, response.content
        done += 1
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    db_cpu = _backend_cpu() - db_started
    rate = done / wall
    print(
        f"(b) whole signed requests, one process: {rate:.0f}/s wall ({done / cpu:.0f} per CPU-second, "
        f"{cpu / done * 1000:.2f} app CPU-ms each); × 2 cores ≈ {2 * done / cpu:.0f}/s   target ≥ 500/s on 2 cores"
    )
    both = (cpu + db_cpu) / done * 1000
    print(
        f"    with PostgreSQL's CPU (the call-log row): {db_cpu / done * 1000:.2f} PG CPU-ms each, app + PG "
        f"{both:.2f} CPU-ms → 2 cores ≈ {2000 / both:.0f}/s (Redis CPU not counted)"
    )


def _backend_cpu() -> float:
    """CPU seconds (user + system) of this connection's PostgreSQL backend so far (same machine; 0 on SQLite)."""
    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
