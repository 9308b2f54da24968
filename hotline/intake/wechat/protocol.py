"""WeChat official-account message protocol: signatures, safe-mode AES, and the message XML.

Written from the public protocol description (server URL verification, plain and safe mode):

- plain mode signs `sha1(sorted([token, timestamp, nonce]))` (the `signature` query parameter);
- safe mode carries `<Encrypt>` whose `msg_signature` is `sha1(sorted([token, timestamp, nonce, encrypt]))`;
  the payload is AES-256-CBC under the 32-byte key decoded from the 43-character EncodingAESKey (IV: its
  first 16 bytes), PKCS#7-padded to a multiple of 32 bytes, and holds 16 random bytes, the message length
  (4 bytes, network order), the message and the appid, which must be ours.

XML is parsed with defusedxml: DTDs, entities and external references are refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

BLOCK = 32
TIMESTAMP_WINDOW_SECONDS = 300
MAX_XML_BYTES = 64 * 1024


class ProtocolError(Exception):
    """A request that is not a valid WeChat message; `code` says why (logged and counted)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def check_signature(expected: str, *parts: str) -> None:
    if not hmac.compare_digest(sign(*parts), (expected or "").lower()):
        raise ProtocolError("bad_signature", "签名校验失败")


def check_timestamp(timestamp: str, now: float, window: int = TIMESTAMP_WINDOW_SECONDS) -> None:
    try:
        value = int(timestamp)
    except (TypeError, ValueError):
        raise ProtocolError("bad_timestamp", "时间戳无效") from None
    if abs(now - value) > window:
        raise ProtocolError("stale_timestamp", "时间戳超出允许范围")


def parse_xml(body: bytes) -> dict[str, str]:
    """The flat `<xml>` message as a dict of child tag → text (nested elements by their own tag path)."""
    if len(body) > MAX_XML_BYTES:
        raise ProtocolError("too_large", "消息过大")
    try:
        root = SafeET.fromstring(body, forbid_dtd=True)
    except (SafeET.ParseError, DefusedXmlException, ValueError) as exc:
        raise ProtocolError("bad_xml", f"XML 无法解析：{type(exc).__name__}") from None
    if root.tag != "xml":
        raise ProtocolError("bad_xml", "根元素不是 xml")
    fields: dict[str, str] = {}
    for child in root:
        if len(child):
            for sub in child:
                fields[f"{child.tag}.{sub.tag}"] = (sub.text or "").strip()
        else:
            fields[child.tag] = (child.text or "").strip()
    return fields


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def build_xml(fields: dict[str, str | int]) -> str:
    parts = []
    for tag, value in fields.items():
        body = str(value) if isinstance(value, int) else _cdata(value)
        parts.append(f"<{tag}>{body}</{tag}>")
    return "<xml>" + "".join(parts) + "</xml>"


def text_reply(*, to_user: str, from_user: str, content: str, created: int) -> str:
    return build_xml(
        {
            "ToUserName": to_user,
            "FromUserName": from_user,
            "CreateTime": created,
            "MsgType": "text",
            "Content": content,
        }
    )


@dataclass(frozen=True)
class Account:
    """One official account's server settings (from the WeChat admin console)."""

    app_id: str
    token: str
    encoding_aes_key: str = ""

    @property
    def safe_mode(self) -> bool:
        return bool(self.encoding_aes_key)


class MessageCrypto:
    def __init__(self, account: Account) -> None:
        if len(account.encoding_aes_key) != 43:
            raise ValueError("EncodingAESKey must be 43 characters")
        self.account = account
        self.key = base64.b64decode(account.encoding_aes_key + "=")

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def decrypt(self, *, encrypt: str, msg_signature: str, timestamp: str, nonce: str) -> bytes:
        check_signature(msg_signature, self.account.token, timestamp, nonce, encrypt)
        try:
            data = base64.b64decode(encrypt, validate=True)
        except (binascii.Error, ValueError):
            raise ProtocolError("bad_payload", "密文不是有效的 Base64") from None
        if not data or len(data) % 16:
            raise ProtocolError("bad_payload", "密文长度无效")
        decryptor = self._cipher().decryptor()
        plain = decryptor.update(data) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise ProtocolError("bad_payload", "密文填充无效")
        plain = plain[:-pad]
        if len(plain) < 20:
            raise ProtocolError("bad_payload", "密文内容过短")
        (length,) = struct.unpack(">I", plain[16:20])
        message, app_id = plain[20 : 20 + length], plain[20 + length :]
        if len(message) != length or app_id.decode("utf-8", "replace") != self.account.app_id:
            raise ProtocolError("bad_appid", "appid 不匹配")
        return message

    def encrypt(self, message: str, *, timestamp: str, nonce: str, random16: bytes | None = None) -> str:
        """The reply envelope: `<xml>` with Encrypt, MsgSignature, TimeStamp and Nonce."""
        raw = message.encode()
        body = (random16 or os.urandom(16)) + struct.pack(">I", len(raw)) + raw + self.account.app_id.encode()
        pad = BLOCK - len(body) % BLOCK
        body += bytes([pad]) * pad
        encryptor = self._cipher().encryptor()
        encrypted = base64.b64encode(encryptor.update(body) + encryptor.finalize()).decode()
        signature = sign(self.account.token, timestamp, nonce, encrypted)
        return build_xml(
            {"Encrypt": encrypted, "MsgSignature": signature, "TimeStamp": timestamp, "Nonce": nonce}
        )


@dataclass(frozen=True)
class Article:
    title: str
    description: str
    url: str
    pic_url: str = ""


MAX_ARTICLES = 8  # WeChat shows at most 8 articles in a passive news reply


def news_reply(*, to_user: str, from_user: str, articles: list[Article], created: int) -> str:
    """A passive reply of type news (图文消息): up to 8 articles, each a link with a title and a summary."""
    items = "".join(
        "<item>"
        f"<Title>{_cdata(a.title)}</Title><Description>{_cdata(a.description)}</Description>"
        f"<PicUrl>{_cdata(a.pic_url)}</PicUrl><Url>{_cdata(a.url)}</Url>"
        "</item>"
        for a in articles[:MAX_ARTICLES]
    )
    return (
        f"<xml><ToUserName>{_cdata(to_user)}</ToUserName><FromUserName>{_cdata(from_user)}</FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType>{_cdata('news')}</MsgType>"
        f"<ArticleCount>{min(len(articles), MAX_ARTICLES)}</ArticleCount><Articles>{items}</Articles></xml>"
    )
