"""Citizen channels against PostgreSQL: portal submission server time and e-mail ingestion.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/channels_db python -m bench.channel_bench [--submissions 200]
        [--emails 1000]

  (a) POST /portal/submit/ through the whole Django stack in-process (django.test.Client): SMS code check, the
      delivery row, the draft with its reply clock, one photo, the receipt in the outbox    target p99 < 200 ms
  (b) N e-mails put into a private Dovecot (needs dovecot-imapd), then one poll: IMAP fetch, a request each,
      moved to Processed                                                                      target 1,000 < 60 s
Each run adds its requests to the database. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import re
import time
import uuid

from django.core.management import call_command
from django.test import Client

from bench import require_postgresql
from hotline.common.runtime import settle_after_startup


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def portal(submissions: int) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from hotline.intake import services
    from hotline.notify.models import Outbox
    from hotline.notify.services import delivery_text
    from tests.intake.test_mail_imap import PNG as FULL_PNG

    samples: list[float] = []
    cpu: list[float] = []
    run = uuid.uuid4().int % 10**6
    for i in range(submissions + 20):
        phone = f"135{(run * 1000 + i) % 10**8:08d}"
        services.phone_code_send(phone=phone)
        body = delivery_text(Outbox.objects.filter(template="channel_login_code", address=phone).latest("id"))
        code = re.search(r"验证码(\d{6})", body).group(1)  # type: ignore[union-attr]
        client = Client(
            HTTP_HOST="127.0.0.1", REMOTE_ADDR=f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"
        )
        values = {
            "submission_id": str(uuid.uuid4()),
            "case_type": "complaint",
            "title": "路灯坏了",
            "content": f"梨园街道幸福社区{i % 90}栋门口的路灯坏了一个多月，晚上很黑，老人出行不便，请尽快维修。",
            "location": "幸福社区",
            "phone": phone,
            "code": code,
            "photos": [SimpleUploadedFile("路灯.png", FULL_PNG, content_type="image/png")],
        }
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.post("/portal/submit/", values)
        elapsed = (time.perf_counter() - started) * 1000
        used = (time.process_time() - started_cpu) * 1000
        assert response.status_code == 302, response.content[:500]
        if i >= 20:
            samples.append(elapsed)
            cpu.append(used)
    print(
        f"(a) portal submission (n={len(samples)})  p50 {percentile(samples, 50):.1f} ms  "
        f"p99 {percentile(samples, 99):.1f} ms  target p99 < 200 ms  (CPU of this process: p50 "
        f"{percentile(cpu, 50):.1f} ms, p99 {percentile(cpu, 99):.1f} ms; PostgreSQL's not counted)"
    )


def email(count: int) -> None:
    from imap_tools import MailBoxUnencrypted

    from hotline.intake.mail import poll_mailbox
    from tests.intake.test_mail_imap import mail, private_dovecot

    with private_dovecot() as config:
        started = time.perf_counter()
        with MailBoxUnencrypted(config.host, config.port).login(config.user, config.password) as box:
            for i in range(count):
                box.append(
                    mail(
                        f"投诉：幸福社区{i}栋路灯坏了", f"第{i}封：路灯坏了一个月，晚上很黑，请尽快维修。"
                    ).as_bytes()
                )
        put = time.perf_counter() - started
        started, started_cpu = time.perf_counter(), time.process_time()
        made = 0
        while True:
            batch = poll_mailbox(config, limit=200)
            made += batch
            if batch == 0:
                break
        took, took_cpu = time.perf_counter() - started, time.process_time() - started_cpu
    print(
        f"(b) {made:,} e-mails ingested in {took:.1f} s, {took_cpu:.1f} s CPU of this process "
        f"(putting them in: {put:.1f} s)  target 1,000 < 60 s"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--emails", type=int, default=1000)
    args = parser.parse_args()
    name = require_postgresql()
    call_command("migrate", verbosity=0)
    from hotline.common.dictionaries import seed_dictionaries
    from hotline.common.models import DictItem
    from hotline.intake.defaults import seed_channel_templates
    from hotline.notify.defaults import seed_templates
    from hotline.notify.models import MessageTemplate

    seed_dictionaries(DictItem)
    seed_templates(MessageTemplate)
    seed_channel_templates(MessageTemplate)
    os.environ["HOTLINE_SMS_QUIET_HOURS"] = ""
    settle_after_startup()
    print(
        f"database {name}; load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}"
    )
    if args.submissions:
        portal(args.submissions)
    if args.emails:
        email(args.emails)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
