"""SMS gateways. The default only logs; Kannel speaks its HTTP sendsms interface with delivery reports."""

from __future__ import annotations

import logging
import os
import urllib.parse
import urllib.request
from typing import Protocol

from .dlr import dlr_secret

logger = logging.getLogger(__name__)


class GatewayError(Exception):
    """The gateway could not take the message now; the outbox retries later."""


class SmsGateway(Protocol):
    def send(self, *, phone: str, text: str, reference: str, sender: str = "") -> str:
        """Hand the message over (from `sender`, a unit's extension number, when given); return the gateway's id
        for it."""
        ...


class LogGateway:
    def send(self, *, phone: str, text: str, reference: str, sender: str = "") -> str:
        logger.info("SMS to %s from %s (ref %s): %s", phone, sender or "-", reference, text)
        return f"log-{reference}"


class KannelGateway:
    """Kannel smsbox `sendsms` over HTTP. Chinese text goes as UCS-2 (coding=2) from UTF-8."""

    def __init__(
        self,
        *,
        url: str,
        username: str,
        password: str,
        sender: str,
        dlr_url: str,
        timeout: float = 5,
        dlr_key: str | None = None,
    ):
        self.url, self.username, self.password = url, username, password
        self.sender, self.dlr_url, self.timeout = sender, dlr_url, timeout
        self.dlr_key = dlr_secret() if dlr_key is None else dlr_key

    def send(self, *, phone: str, text: str, reference: str, sender: str = "") -> str:
        params = {
            "username": self.username,
            "password": self.password,
            "to": phone,
            "text": text,
            "charset": "UTF-8",
            "coding": "2",
            "dlr-mask": "31",
            # Kannel substitutes %d and %A; the key and the signed reference authenticate the report (notify/dlr.py).
            "dlr-url": f"{self.dlr_url}?{urllib.parse.urlencode({'key': self.dlr_key, 'ref': reference})}"
            "&status=%d&answer=%A",
        }
        if sender or self.sender:
            params["from"] = sender or self.sender
        query = urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(f"{self.url}?{query}", timeout=self.timeout) as response:  # noqa: S310
                body = response.read().decode("utf-8", "replace")
        except OSError as exc:
            raise GatewayError(f"Kannel 不可用：{exc}") from exc
        if not body.startswith(("0:", "3:")):  # 0: Accepted, 3: Queued for later delivery
            raise GatewayError(f"Kannel 拒绝：{body.strip()}")
        return reference


def configured_gateway() -> SmsGateway:
    kind = os.environ.get("HOTLINE_SMS_GATEWAY", "log")
    if kind == "kannel":
        return KannelGateway(
            url=os.environ.get("HOTLINE_KANNEL_URL", "http://127.0.0.1:13013/cgi-bin/sendsms"),
            username=os.environ.get("HOTLINE_KANNEL_USER", "hotline"),
            password=os.environ.get("HOTLINE_KANNEL_PASSWORD", "hotline"),
            sender=os.environ.get("HOTLINE_SMS_SENDER", "12345"),
            dlr_url=os.environ.get("HOTLINE_KANNEL_DLR_URL", "http://127.0.0.1:8000/notify/kannel/dlr/"),
        )
    return LogGateway()
