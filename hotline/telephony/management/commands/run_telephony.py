"""Start Kamailio and one pjsua2 media node on 127.0.0.1 and run the call controller until stopped.

Exits at once (telephony off) when `HOTLINE_TELEPHONY=off` or Kamailio / pjsua2 are not installed, so the
run command can always start it. Live pushes to the web workers need `HOTLINE_TELEPHONY_REDIS` (the controller
runs in this process, the web server in another)."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from hotline.telephony.models import Number
from hotline.telephony.selectors import telephony_enabled


class Command(BaseCommand):
    help = "运行呼叫中心：Kamailio + pjsua2 媒体节点 + 呼叫控制"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--ring-timeout", type=float, default=20.0)
        parser.add_argument("--wrap-up-seconds", type=int, default=0, help="0: until the agent ends it")

    def handle(self, *args: Any, **options: Any) -> None:
        if not telephony_enabled():
            from hotline.telephony.runtime import missing_binaries

            self.stdout.write(
                f"电话功能未启用（缺少：{', '.join(missing_binaries()) or 'HOTLINE_TELEPHONY=off'}）"
            )
            return
        from hotline.telephony.adapters.pjsua_node import PjsuaNodeEngine
        from hotline.telephony.adapters.pool import NodePool
        from hotline.telephony.controller import CallController
        from hotline.telephony.engine import MediaEngine
        from hotline.telephony.runtime import Stack

        base = settings.HOTLINE_SIP_PORT
        numbers = list(Number.objects.filter(is_active=True).values_list("number", flat=True)) or ["12345"]
        stack = Stack(
            work_dir=Path(settings.VAR_DIR) / "telephony" / "run",
            sip_port=base,
            node_sip_port=base + 10,
            ctl_port=base + 11,
            rtp_port=base + 940,
            numbers=numbers,
            nodes=max(1, int(getattr(settings, "HOTLINE_TELEPHONY_NODES", 1))),
        )
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        stack.start()
        engines = [PjsuaNodeEngine(name=n, port=stack.node_ctl_port(n)) for n in stack.node_names()]
        engine: MediaEngine = engines[0] if len(engines) == 1 else NodePool(engines)
        try:
            controller = CallController(
                engine,
                registrar=stack.registrar,
                ring_timeout=options["ring_timeout"],
                wrap_up_seconds=options["wrap_up_seconds"],
            )
            self.stdout.write(
                f"呼叫中心已启动：SIP 127.0.0.1:{base}，接入号码 {', '.join(numbers)}，媒体节点 {len(engines)} 个"
            )
            controller.serve_forever(stop)
        finally:
            engine.close()
            stack.stop()
