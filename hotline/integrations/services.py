"""Writes of the integrations package: partners and their credentials, and the call log."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from django.db import connection, transaction
from django.utils.translation import gettext as _

from hotline.common import clock, crypto
from hotline.common.audit import audit_record
from hotline.common.errors import NotAllowed, ServiceError
from hotline.orgs.models import Role, Unit, UnitKind, User
from hotline.orgs.services import user_create

from . import payload
from .models import Delivery, Partner, PartnerCall, Subscription
from .permissions import may_manage_partners


@dataclass(frozen=True)
class IssuedCredentials:
    """Shown once, when issued: only the sealed form is stored."""

    secret: str
    encryption_key: str  # base64, empty when the partner's payloads are not encrypted
    api_key: str = ""  # `api_key` (Open311) / `X-Api-Key` (knowledge search), for partners with those scopes


def partner_create(
    *,
    actor: Any,
    code: str,
    name: str,
    kind: str = Partner.Kind.OTHER,
    sign_method: str = Partner.SignMethod.HMAC_SHA256,
    encryption: str = Partner.Encryption.NONE,
    allowed_networks: str = "",
    scopes: list[str] | None = None,
    rate_per_minute: int = 600,
    accept_legacy_cipher: bool = False,
    unit: Unit | None = None,
    knowledge_spaces: Sequence[Any] = (),
    knowledge_public_only: bool = True,
) -> tuple[Partner, IssuedCredentials]:
    _require_manager(actor)
    if kind == Partner.Kind.BUREAU and unit is None:
        raise ServiceError(
            _("委办局系统须指定对应单位"), field_errors={"unit": [_("委办局系统须指定对应单位")]}
        )
    fields = _clean(
        code=code,
        name=name,
        kind=kind,
        sign_method=sign_method,
        encryption=encryption,
        allowed_networks=allowed_networks,
        scopes=scopes if scopes is not None else [Partner.Scope.PING],
        rate_per_minute=rate_per_minute,
        accept_legacy_cipher=accept_legacy_cipher,
    )
    if Partner.objects.filter(code=fields["code"]).exists():
        raise ServiceError(_("接入代码已存在"), field_errors={"code": [_("接入代码已存在")]})
    issued, sealed = _new_credentials(fields["encryption"], api_key=_uses_api_key(fields["scopes"]))
    with transaction.atomic():
        partner = Partner.objects.create(
            **fields, **sealed, unit=unit, knowledge_public_only=knowledge_public_only
        )
        if knowledge_spaces:
            partner.knowledge_spaces.set(knowledge_spaces)
        home = unit or (_office() if partner.kind in SENDING_KINDS else None)
        if home is not None:
            role = Role.UNIT_HANDLER if unit is not None else Role.AGENT
            partner.service_user = _service_user(partner, home, actor, role)
            partner.save(update_fields=["service_user"])
        audit_record(actor=actor, action="create", obj=partner, summary=f"接入系统 {partner.code}")
        forget_partners()
        transaction.on_commit(forget_partners)
    return partner, issued


def partner_update(
    *,
    actor: Any,
    partner: Partner,
    name: str,
    allowed_networks: str,
    scopes: list[str],
    rate_per_minute: int,
    knowledge_spaces: Sequence[Any] = (),
    knowledge_public_only: bool = True,
) -> Partner:
    """Change what a partner may do and from where. Its code, kind, unit and cryptography stay (they are its
    identity and its credentials: register a new partner or rotate the credentials instead). Scopes that need an
    API key when the partner has none are refused: rotate the credentials after adding them."""
    _require_manager(actor)
    fields = _clean(
        code=partner.code,
        name=name,
        kind=partner.kind,
        sign_method=partner.sign_method,
        encryption=partner.encryption,
        accept_legacy_cipher=True,  # accepted when it was registered; unchanged here
        allowed_networks=allowed_networks,
        scopes=scopes,
        rate_per_minute=rate_per_minute,
    )
    if _uses_api_key(fields["scopes"]) and not partner.api_key_hash:
        message = _("该授权范围需要接口密钥：请先保存其他授权，再“更换密钥”后添加")
        raise ServiceError(message, field_errors={"scopes": [message]})
    changed = {k: fields[k] for k in ("name", "allowed_networks", "scopes", "rate_per_minute")}
    with transaction.atomic():
        Partner.objects.filter(pk=partner.pk).update(
            **changed, knowledge_public_only=knowledge_public_only, updated_at=clock.now()
        )
        partner.knowledge_spaces.set(knowledge_spaces)
        audit_record(
            actor=actor,
            action="update",
            obj=partner,
            summary=f"修改接入系统 {partner.code}",
            changes={**changed, "knowledge_spaces": sorted(s.pk for s in knowledge_spaces)},
        )
        forget_partners()
        transaction.on_commit(forget_partners)
    partner.refresh_from_db()
    return partner


def partner_rotate_credentials(*, actor: Any, partner: Partner) -> IssuedCredentials:
    """New secret (and payload key): the old ones stop working at once."""
    _require_manager(actor)
    issued, sealed = _new_credentials(partner.encryption, api_key=_uses_api_key(partner.scopes))
    with transaction.atomic():
        Partner.objects.filter(pk=partner.pk).update(**sealed, updated_at=clock.now())
        audit_record(actor=actor, action="rotate_secret", obj=partner, summary=f"更换密钥 {partner.code}")
        forget_partners()
        transaction.on_commit(forget_partners)
    partner.refresh_from_db()
    return issued


def partner_set_active(*, actor: Any, partner: Partner, active: bool) -> Partner:
    _require_manager(actor)
    with transaction.atomic():
        Partner.objects.filter(pk=partner.pk).update(is_active=active, updated_at=clock.now())
        audit_record(
            actor=actor, action="enable" if active else "disable", obj=partner, changes={"is_active": active}
        )
        forget_partners()
        transaction.on_commit(forget_partners)
    partner.refresh_from_db()
    return partner


def call_record(
    *,
    partner: Partner | None,
    direction: str,
    method: str,
    path: str,
    status_code: int,
    reason: str = "",
    client_ip: str | None = None,
    duration_ms: int = 0,
) -> None:
    """One row of the call log. Written on every partner request, so as one plain INSERT: the model's save path
    cost more CPU than the rest of a signed request's own work (bench/signing_bench.py)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {PartnerCall._meta.db_table} (partner_id, direction, method, path, status_code, reason, "
            "client_ip, at, duration_ms) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                partner.pk if partner is not None else None,
                direction,
                method[:8],
                path[:255],
                status_code,
                reason[:32],
                client_ip,
                clock.now(),
                max(0, duration_ms),
            ],
        )


# Partners as this process last read them: a signed request needs no database round trip. A change made here is
# seen at once; one made by another server process within PARTNER_CACHE_SECONDS.
PARTNER_CACHE_SECONDS = 10.0
_partners: dict[str, tuple[float, Partner | None]] = {}


def active_partner(code: str) -> Partner | None:
    now = time.monotonic()
    cached = _partners.get(code)
    if cached is not None and now - cached[0] < PARTNER_CACHE_SECONDS:
        return cached[1]
    partner = Partner.objects.filter(code=code, is_active=True).first()
    if len(_partners) > 10_000:
        _partners.clear()  # unknown codes from a probe must not grow the map without bound
    _partners[code] = (now, partner)
    return partner


def forget_partners() -> None:
    from .webhooks import forget_subscriptions

    _partners.clear()
    forget_subscriptions()


def partner_secret(partner: Partner) -> bytes:
    return _unseal(partner.secret_sealed).encode()


def partner_payload_key(partner: Partner) -> bytes:
    return base64.b64decode(_unseal(partner.encryption_key_sealed)) if partner.encryption_key_sealed else b""


@lru_cache(maxsize=1024)
def _unseal(sealed: str) -> str:
    # Keyed by the sealed text itself, so a rotated secret is a new entry and the old one is never served.
    return crypto.decrypt(sealed)


# Scopes whose callers may present an `api_key` instead of signing each request.
API_KEY_SCOPES = frozenset({Partner.Scope.OPEN311, Partner.Scope.KNOWLEDGE_READ})


def _uses_api_key(scopes: Sequence[str]) -> bool:
    return bool(API_KEY_SCOPES & set(scopes))


def _new_credentials(encryption: str, *, api_key: bool) -> tuple[IssuedCredentials, dict[str, str]]:
    secret = secrets.token_urlsafe(32)
    key = base64.b64encode(payload.new_key(encryption)).decode() if encryption != payload.NONE else ""
    sealed = {
        "secret_sealed": crypto.encrypt(secret),
        "encryption_key_sealed": crypto.encrypt(key) if key else "",
        "api_key_prefix": "",
        "api_key_hash": "",
    }
    issued_key = ""
    if api_key:
        prefix = secrets.token_hex(6)
        issued_key = f"{prefix}.{secrets.token_urlsafe(24)}"
        sealed.update(api_key_prefix=prefix, api_key_hash=api_key_digest(issued_key))
    return IssuedCredentials(secret=secret, encryption_key=key, api_key=issued_key), sealed


def api_key_digest(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


LEGACY_KEY_HASH = "secret-sha256:"  # keys the knowledge base issued to its search clients (see the model)


def api_key_matches(partner: Partner, api_key: str) -> bool:
    stored = partner.api_key_hash
    if stored.startswith(LEGACY_KEY_HASH):
        secret = api_key.partition(".")[2]
        digest = LEGACY_KEY_HASH + hashlib.sha256(secret.encode()).hexdigest()
        return bool(secret) and hmac.compare_digest(stored, digest)
    return bool(stored) and hmac.compare_digest(stored, api_key_digest(api_key))


def partner_by_api_key(api_key: str) -> Partner | None:
    """The active partner whose key this is (compared in constant time), whatever its scopes, or None."""
    prefix = api_key.partition(".")[0][:12]
    if not prefix:
        return None
    partner = Partner.objects.filter(api_key_prefix=prefix, is_active=True).first()
    if partner is None or not api_key_matches(partner, api_key):
        return None
    return partner


def partner_for_api_key(api_key: str, scope: str = Partner.Scope.OPEN311) -> Partner | None:
    """The active partner whose key this is and which holds `scope`, or None."""
    partner = partner_by_api_key(api_key)
    return partner if partner is not None and scope in partner.scopes else None


# Platforms that send us cases: their account registers them as the hotline's agents do (in the office unit).
SENDING_KINDS = frozenset({Partner.Kind.SUPERIOR, Partner.Kind.EMERGENCY})


def _office() -> Unit | None:
    return Unit.objects.filter(kind=UnitKind.OFFICE).order_by("pk").first()


def _service_user(partner: Partner, unit: Unit, actor: Any, role: str) -> User:
    """The partner's identity on the platform: scope, masking and the timeline follow it. It cannot log in."""
    user = user_create(
        username=f"partner-{partner.code}"[:150],
        password=secrets.token_urlsafe(32),
        full_name=str(_("接入系统：%(name)s") % {"name": partner.name})[:100],
        unit=unit,
        roles=[role],
        actor=actor,
    )
    user.set_unusable_password()
    user.save(update_fields=["password"])
    return user


def subscription_create(*, actor: Any, partner: Partner, url: str, events: list[str]) -> Subscription:
    _require_manager(actor)
    errors: dict[str, list[str]] = {}
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname or len(url) > 500:
        errors["url"] = [_("请填写 http(s) 推送地址")]
    if not events or any(event not in Subscription.Event.values for event in events):
        errors["events"] = [_("请选择要订阅的事件")]
    if partner.service_user_id is None:
        errors["partner"] = [_("只有对应了单位的系统、上级平台和联动平台才能订阅诉求事件")]
    if errors:
        raise ServiceError(_("订阅信息有误"), field_errors=errors)
    with transaction.atomic():
        subscription = Subscription.objects.create(partner=partner, url=url, events=sorted(set(events)))
        forget_partners()
        transaction.on_commit(forget_partners)
        audit_record(
            actor=actor, action="create", obj=subscription, summary=f"{partner.code} 订阅 {url}"[:255]
        )
    return subscription


def delivery_retry(*, actor: Any, partner: Partner) -> int:
    """Put a partner's dead deliveries back in the queue (after the partner has fixed its side)."""
    _require_manager(actor)
    with transaction.atomic():
        count = Delivery.objects.filter(subscription__partner=partner, status=Delivery.Status.DEAD).update(
            status=Delivery.Status.PENDING, next_attempt_at=clock.now(), created_at=clock.now()
        )
        audit_record(actor=actor, action="retry_deliveries", obj=partner, summary=f"重新推送 {count} 条")
    return count


def _require_manager(actor: Any) -> None:
    if not may_manage_partners(actor):
        raise NotAllowed(_("只有系统管理员可以管理接入系统"))


def _clean(**raw: Any) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    code = str(raw["code"] or "").strip()
    if not code or len(code) > 40 or not all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in code):
        errors["code"] = [_("接入代码只能由字母、数字、- 和 _ 组成，最长 40 个字符")]
    name = str(raw["name"] or "").strip()
    if not name or len(name) > 100:
        errors["name"] = [_("请填写名称（最长 100 个字符）")]
    choices = {
        "kind": Partner.Kind.values,
        "sign_method": Partner.SignMethod.values,
        "encryption": Partner.Encryption.values,
    }
    for field, allowed in choices.items():
        if raw[field] not in allowed:
            errors[field] = [_("不支持的取值")]
    if raw["encryption"] in payload.LEGACY and not raw["accept_legacy_cipher"]:
        errors["encryption"] = [_("DES 已不安全，仅在对方系统无法升级时使用：请明确确认使用遗留算法")]
    networks, bad = _networks(raw["allowed_networks"])
    if bad:
        errors["allowed_networks"] = [_("无效的地址：%(value)s") % {"value": ", ".join(bad)}]
    scopes = raw["scopes"]
    if not isinstance(scopes, list) or any(scope not in Partner.Scope.values for scope in scopes):
        errors["scopes"] = [_("不支持的授权范围")]
    rate = raw["rate_per_minute"]
    if not isinstance(rate, int) or not 1 <= rate <= 100_000:
        errors["rate_per_minute"] = [_("每分钟请求上限应在 1–100000 之间")]
    if errors:
        raise ServiceError(_("接入系统信息有误"), field_errors=errors)
    return {
        "code": code,
        "name": name,
        "kind": raw["kind"],
        "sign_method": raw["sign_method"],
        "encryption": raw["encryption"],
        "allowed_networks": "\n".join(networks),
        "scopes": sorted(set(scopes)),
        "rate_per_minute": rate,
    }


def _networks(text: str) -> tuple[list[str], list[str]]:
    good, bad = [], []
    for line in str(text or "").replace(",", "\n").splitlines():
        item = line.strip()
        if not item:
            continue
        try:
            good.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            bad.append(item[:50])
    return good, bad
