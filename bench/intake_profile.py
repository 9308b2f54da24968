"""CPU per case create, measured in one process (independent of the machine's load), with an optional profile.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hotline_bench python -m bench.intake_profile \
        [--creates 300] [--profile] [--sort tottime]

POSTs the same requests as bench/intake_throughput.py (public cases of the demo city) to /api/v1/cases/ through
Django's request handler (middleware, token authentication, serializer, service, response) in this process, one
after another, and prints the CPU time per create of this process (`time.process_time`: CPU used, not wall time,
so other work on the machine does not count) and of the PostgreSQL backend serving it (read from /proc), beside
the target of issue 12 (≤ 10 CPU-ms per create). Gunicorn's own HTTP parsing is not included; the throughput
bench measures it with the rest. `--profile` prints the functions that cost the most (cProfile).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import time
from collections.abc import Sequence

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from bench import require_postgresql
from bench.intake_throughput import TARGET_CPU_MS, cpu_seconds, payloads


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--creates", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--seed", type=int, default=54321)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--lines", type=int, default=40)
    args = parser.parse_args(argv)

    require_postgresql()
    call_command("migrate", verbosity=0)
    from rest_framework.authtoken.models import Token

    from hotline.orgs.models import User

    if not User.objects.filter(username="agent1").exists():
        call_command("seed_demo", verbosity=0)
    token, _ = Token.objects.get_or_create(user=User.objects.get(username="agent1"))
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    bodies = [json.dumps(b) for b in payloads(args.creates + args.warmup, args.seed)]
    url = reverse("api-cases")
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")

    def post(body: str) -> None:
        response = client.post(url, body, content_type="application/json")
        if response.status_code != 201:
            raise SystemExit(f"{response.status_code} {response.content[:300]!r}")

    for body in bodies[: args.warmup]:
        post(body)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (backend,) = cursor.fetchone()
    measured = bodies[args.warmup :]
    profiler = cProfile.Profile(time.process_time) if args.profile else None  # CPU, not wall time
    db0 = cpu_seconds([backend])
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    for body in measured:
        post(body)
    if profiler:
        profiler.disable()
    app = time.process_time() - cpu0
    wall = time.perf_counter() - wall0
    db = cpu_seconds([backend]) - db0
    n = len(measured)
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    print(
        f"{n} creates one after another in one process, {wall:.1f} s wall"
        + (" (profiled)" if profiler else "")
    )
    print(f"{'CPU-ms per create (total)':<28}{1000 * (app + db) / n:>10.1f}   target ≤ {TARGET_CPU_MS:.0f}")
    print(f"{'  app (this process)':<28}{1000 * app / n:>10.1f}")
    print(f"{'  database (its backend)':<28}{1000 * db / n:>10.1f}")
    if profiler:
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.lines)


if __name__ == "__main__":
    main()
