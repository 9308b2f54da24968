"""Outbound pushes to a partner that comes back after an outage (API-6): 10,000 queued deliveries drained.

Queues N deliveries (default 10,000) for one partner's subscription pointing at a real HTTP server on 127.0.0.1
(the partner; it verifies nothing and answers 204), then runs `integrations.delivery.deliver_due` until the queue
is empty and prints the time beside the target (< 60 s). Uses the database in DATABASE_URL (migrated if needed).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hotline_bench python -m bench.push_bench [--count 10000]
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django.core.management import call_command

from hotline.common import clock
from hotline.integrations.delivery import deliver_due
from hotline.integrations.models import Delivery, Partner, Subscription
from hotline.integrations.services import partner_create
from hotline.orgs.models import Role, Unit, User
from hotline.orgs.services import user_create


class _Partner(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    received = 0

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        _Partner.received += 1
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def _subscription(url: str) -> Subscription:
    admin = User.objects.filter(roles__role=Role.ADMIN).first() or user_create(
        username=f"bench-admin-{time.time_ns()}", password=f"pw-{time.time_ns()}", full_name="bench",
        unit=Unit.objects.order_by("pk").first(), roles=[Role.ADMIN],
    )  # fmt: skip
    partner, _ = partner_create(actor=admin, code=f"bench-{time.time_ns()}", name="bench")
    return Subscription.objects.create(partner=partner, url=url, events=["status_changed"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Partner)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    subscription = _subscription(f"http://127.0.0.1:{server.server_address[1]}/hooks")
    now = clock.now()
    payload = {
        "event": "status_changed",
        "case": {"number": "20261207000001", "status": "handling", "title": "路灯"},
    }
    Delivery.objects.bulk_create(
        [
            Delivery(
                subscription=subscription, idempotency_key=f"bench-{subscription.pk}-{i}", event="status_changed",
                case_id=i, payload=payload, next_attempt_at=now, created_at=now,
            )
            for i in range(args.count)
        ],
        batch_size=2000,
    )  # fmt: skip
    print(f"{args.count:,} deliveries queued; load {os.getloadavg()[0]:.2f}")
    started, cpu = time.perf_counter(), time.process_time()
    sent = 0
    while Delivery.objects.filter(subscription=subscription, status="pending").exists():
        sent += deliver_due()
    wall = time.perf_counter() - started
    print(
        f"drained {sent:,} (partner received {_Partner.received:,}) in {wall:.1f} s wall, "
        f"{time.process_time() - cpu:.1f} s CPU of this process   target < 60 s"
    )
    server.shutdown()
    Partner.objects.filter(pk=subscription.partner_id).update(is_active=False)


if __name__ == "__main__":
    main()
