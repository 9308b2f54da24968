"""ORG-2: a user of another unit gets 404 on every route that names an object by id — pages and API, GET and
every write method the route accepts — and nothing is saved.

The routes are enumerated from Django's resolver, so a new route with a kwarg is covered the day it is added:
it must be classified below (the object kind its id names) or listed as an exception with its reason, or
`test_every_route_with_a_kwarg_is_classified` fails. The objects come from `tests/factories.unit_world`:
a case of the east district (forwarded nowhere), its step, extension request, attachment, co-requester,
citizen and contact, a knowledge directory of the tax bureau, and the office's own records.

Outsiders: a handler of another district (same level as the east district), of a community in the west
(another level), of a sibling community inside the east district (a handler sees only its own unit), and the
leader of the west district (a leader sees its subtree, not another's).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from hotline.cases.actions import ASSIGNMENT_ACTIONS, CASE_ACTIONS
from hotline.common.models import AuditLog
from hotline.orgs.models import Role, User
from tests import factories
from tests.factories import UnitWorld

# Which object each route's id names. Every route with a kwarg outside the admin must be in exactly one of
# ROUTES and EXCEPTIONS.
CASE = "case"
ASSIGNMENT = "assignment"
KINDS: dict[str, Callable[[UnitWorld], dict[str, Any]]] = {
    CASE: lambda w: {"pk": w.case.pk},
    ASSIGNMENT: lambda w: {"pk": w.assignment.pk},
    "extension": lambda w: {"pk": w.extension.pk},
    "case_attachment": lambda w: {"pk": w.attachment.pk},
    "notice": lambda w: {"pk": w.notice.pk},
    "co_requester": lambda w: {"pk": w.co_requester.pk},
    "citizen": lambda w: {"pk": w.citizen.pk},
    "contact": lambda w: {"pk": w.contact.pk},
    "kb_item": lambda w: {"pk": w.kb.item.pk},
    "kb_directory": lambda w: {"pk": w.kb.directory.pk},
    "kb_version": lambda w: {"pk": w.kb.pending.pk},
    "kb_attachment": lambda w: {"pk": w.kb.attachment.pk},
    "missed_call": lambda w: {"pk": w.missed.pk},
    "token": lambda w: {"prefix": w.token_prefix},
    "blacklist": lambda w: {"pk": w.blacklist.pk},
    "import_job": lambda w: {"pk": w.import_job.pk},
    "extended_field": lambda w: {"pk": w.extended_field.pk},
    "case_pk": lambda w: {"case_pk": w.case.pk},
    "bulletin": lambda w: {"pk": w.bulletin.pk},
    "bulletin_attachment": lambda w: {"pk": w.bulletin_attachment.pk},
    "sms_group": lambda w: {"pk": w.sms_group.pk},
    "sms_group_member": lambda w: {"pk": w.sms_group.pk, "member": w.sms_group.members.get().pk},
    "sms_group_send": lambda w: {"pk": w.sms_group_send.pk},
}

ROUTES: dict[str, str] = {
    # cases (pages)
    "case-detail": CASE,
    "case-edit": CASE,
    "case-act": CASE,
    "case-merge-candidates": CASE,
    "case-merge": CASE,
    "case-unmerge": CASE,
    "case-print": CASE,
    "case-reveal-phone": CASE,
    "case-attachment": "case_attachment",
    "assignment-act": ASSIGNMENT,
    "extension-decide": "extension",
    "notice-open": "notice",
    # cases (API)
    "api-case-detail": CASE,
    "api-case-timeline": CASE,
    "api-case-merge": CASE,
    "api-case-unmerge": CASE,
    "api-case-co-requesters": CASE,
    "api-case-reveal-phone": CASE,
    "api-case-attachment": "case_attachment",
    "api-co-cb": "co_requester",
    "api-extension-decide": "extension",
    **{f"api-case-{slug}": CASE for slug in CASE_ACTIONS},
    **{f"api-assignment-{slug}": ASSIGNMENT for slug in ASSIGNMENT_ACTIONS},
    # citizens
    "citizen-detail": "citizen",
    "citizen-contact-add": "citizen",
    "citizen-contact-delete": "contact",
    "api-citizen-detail": "citizen",
    "api-citizen-contacts": "citizen",
    "api-citizen-history": "citizen",
    "api-contact-detail": "contact",
    # knowledge
    "kb-item": "kb_item",
    "kb-item-edit": "kb_item",
    "kb-favourite": "kb_item",
    "kb-helpful": "kb_item",
    "kb-item-state": "kb_item",
    "kb-item-move": "kb_item",
    "kb-item-stats": "kb_item",
    "kb-attachment": "kb_attachment",
    "kb-directory": "kb_directory",
    "kb-directory-import": "kb_directory",
    "kb-directory-rename": "kb_directory",
    "kb-directory-move": "kb_directory",
    "kb-directory-delete": "kb_directory",
    "kb-directory-grants": "kb_directory",
    "kb-directory-stats": "kb_directory",
    "kb-version-approve": "kb_version",
    "kb-version-reject": "kb_version",
    "api-kb-directory": "kb_directory",
    "api-kb-directory-move": "kb_directory",
    "api-kb-directory-grants": "kb_directory",
    "api-kb-directory-export": "kb_directory",
    "api-kb-directory-import": "kb_directory",
    "api-kb-directory-export-zip": "kb_directory",
    "api-kb-directory-import-zip": "kb_directory",
    "api-kb-directory-stats": "kb_directory",
    "api-kb-item": "kb_item",
    "api-kb-item-state": "kb_item",
    "api-kb-item-move": "kb_item",
    "api-kb-item-versions": "kb_item",
    "api-kb-item-favourite": "kb_item",
    "api-kb-item-helpful": "kb_item",
    "api-kb-item-stats": "kb_item",
    "api-kb-attachment": "kb_attachment",
    "api-kb-version": "kb_version",
    "api-kb-version-approve": "kb_version",
    "api-kb-version-reject": "kb_version",
    # telephony
    "tel-missed-done": "missed_call",
    "tel-case-recordings": "case_pk",
    # integrations
    "integ-case-emergency": "case_pk",
    # bulletins: the sender, its recipients (a unit's people) and its reviewer
    "bulletin-detail": "bulletin",
    "bulletin-edit": "bulletin",
    "bulletin-act": "bulletin",
    "bulletin-attachment": "bulletin_attachment",
    "intake-case-callback-sms": "case_pk",
    "intake-case-mail-answer": "case_pk",
    # SMS contact groups: a unit's own (leaders above it and the office see them too)
    "intake-sms-group": "sms_group",
    "intake-sms-group-send": "sms_group_send",
    "api-sms-group": "sms_group",
    "api-sms-group-members": "sms_group",
    "api-sms-group-member": "sms_group_member",
    "api-sms-group-send": "sms_group",
    "api-sms-group-send-report": "sms_group_send",
    # flows: a case's position in its flow template
    "api-case-flow": CASE,
    # the user's own API tokens
    "api-token-revoke": "token",
    # office records: not a unit's business at all
    "api-blacklist-detail": "blacklist",
    "citizen-blacklist-remove": "blacklist",
    "api-citizen-import-job": "import_job",
    "api-extended-field": "extended_field",
}

# Routes with a kwarg that is not an object of a unit, or where 404 is not the answer for another unit — each
# with its reason (and where it is tested instead).
EXCEPTIONS: dict[str, str] = {
    "kpi-period": "an assessment period is the centre's, not a unit's: a unit leader sees it with the rows of "
    "its own subtree only (tests/analytics/test_kpi_views.py)",
    "kpi-compute": "office only: anyone else 404 (tests/analytics/test_kpi_views.py)",
    "api-wechat-template": "`code` names a notice's WeChat template, office configuration: anyone else 404 "
    "(tests/intake/test_wechat_templates.py)",
    "kpi-publish": "office only: anyone else 404 (tests/analytics/test_kpi_views.py)",
    "kpi-adjust": "office only: anyone else 404 (tests/analytics/test_kpi_views.py)",
    "kpi-note": "office only: anyone else 404 (tests/analytics/test_kpi_views.py)",
    "kpi-note-reply": "an improvement note is answered by its unit only; another unit 404 "
    "(tests/analytics/test_kpi_views.py)",
    "report-run": "a saved cross-tab is the user's own or shared with the user's unit, not a unit's "
    "case object; any other user gets 404 and the figures are re-scoped to whoever runs it "
    "(tests/analytics/test_reports.py)",
    "report-delete": "only the owner deletes a saved report; anyone else 404 (tests/analytics/test_reports.py)",
    "report-schedule-delete": "a report schedule is its owner's, not a unit's object: anyone else 404 "
    "(tests/analytics/test_report_schedules.py)",
    "citizen-import": "`kind` is the import type (citizens/contacts/blacklist), not an object; the page is "
    "for hotline staff only by role (tests/citizens/test_import_jobs.py)",
    "intake-wechat": "public endpoint of a WeChat official account; `app_id` names the account, every message "
    "is authenticated by its signature (tests/intake/test_wechat_protocol.py)",
    "portal-kb-item": "public portal: a published item marked public is for everyone, anonymous included; "
    "anything else is 404 there (tests/knowledge/test_portal.py)",
    "portal-kb-attachment": "public portal, as portal-kb-item (tests/knowledge/test_pending_files_and_html.py)",
    "tel-recording-audio": "a recording needs a call through the media node; scoped to users who may see a "
    "linked case, others 404 (tests/telephony/test_recordings.py)",
    "api-tel-recording-audio": "as tel-recording-audio, through the API (tests/telephony/test_recordings.py)",
    "tel-ivr-edit": "`code` names an IVR flow, configuration for system administrators only, 404 for everyone "
    "else (tests/telephony/test_ivr_editor.py)",
    "flow-template": "flow templates are office configuration (dispatchers, leaders, admins of the office): every "
    "other user gets 404 for any id (tests/flows/test_views.py::test_outsiders_get_404_on_every_id)",
    "flow-template-status": "as flow-template",
    "flow-version-new": "as flow-template",
    "flow-version": "as flow-template",
    "flow-edit": "as flow-template",
    "flow-export": "as flow-template",
    "flow-svg": "as flow-template",
    "flow-move": "as flow-template (`move` is submit / reject / publish)",
    "api-flow-template": "as flow-template, through the API",
    "api-flow-version": "as flow-template, through the API",
    "integ-partner": "partner systems are managed by system administrators only: every other user gets 404 for "
    "any id (tests/integrations/test_partner_screen.py::test_other_roles_get_404)",
    "integ-partner-edit": "as integ-partner",
    "integ-partner-rotate": "as integ-partner",
    "integ-partner-toggle": "as integ-partner",
    "integ-subscription-new": "as integ-partner",
    "integ-deliveries-retry": "as integ-partner",
    "integ-base-data-export": "`kind` is a table (units/users/dictionaries/citizens), not an object; administrators only, "
    "others 404 (tests/integrations/test_basedata.py)",
    "integ-key-request-decide": "Open311 key requests are decided by administrators only, others 404 "
    "(tests/integrations/test_open311_keys.py)",
    "open311-key-claim": "public claim link: the token is the secret, a guessed one 404 (test_open311_keys.py)",
    "partner-emergency-feedback": "partner API: a platform reaches only the hand-overs sent to it, others 404 "
    "(tests/integrations/test_emergency.py)",
    "partner-case-calls": "partner API with the calls:read scope: only cases the partner may see, others 404 "
    "(tests/integrations/test_partner_calls.py)",
    "partner-recording-audio": "as partner-case-calls",
    "partner-base-data": "partner API with the base-data scope (citizens: the citizens scope too); `kind` names a "
    "table (test_basedata.py)",
    "partner-case": "partner API: only a signed request of a registered partner is accepted (staff sessions "
    "and tokens get 401); a partner reads only the cases it sent (tests/integrations/test_superior_exchange.py)",
    "partner-assignment-action": "partner API, as partner-case; a bureau system reaches only its unit's steps "
    "(tests/integrations/test_bureau_api.py)",
    "portal-case": "public portal: a citizen opens a case by its number and query password (lockout as the "
    "public lookup); a public case shows only status and reply (tests/intake/test_portal.py)",
    "api-citizen-request": "citizen app API: a citizen token, staff sessions and tokens refused; another citizen "
    "gets 404 (tests/intake/test_citizen_api.py)",
    "api-citizen-rating": "as api-citizen-request",
    "api-citizen-photos": "as api-citizen-request",
    "portal-public-case": "public portal: only closed cases the office made public, personal data removed; any "
    "other number is 404 (tests/intake/test_public_cases.py)",
    "portal-chat": "public portal: an online chat is reached only by its unguessable token (only its hash is "
    "stored); any other token is 404 (tests/intake/test_chat.py)",
    "api-citizen-public-case": "as portal-public-case (tests/intake/test_citizen_public_api.py)",
    "api-citizen-announcement": "as portal-announcement",
    "portal-announcement": "public portal: only announcements published to the public after review, within their "
    "validity; anything else is 404 to everyone",
    "portal-chat-lines": "as portal-chat",
    "portal-chat-send": "as portal-chat",
    "portal-chat-events": "as portal-chat",
    "portal-chat-close": "as portal-chat",
    "intake-chat-session": "online chat sessions are not a unit's objects: only chat agents (and monitors) see "
    "the queue, a session taken by an agent is 404 for everyone else, unit users get 404 for any id "
    "(tests/intake/test_chat.py)",
    "intake-chat-accept": "as intake-chat-session",
    "intake-chat-lines": "as intake-chat-session",
    "intake-chat-events": "as intake-chat-session",
    "intake-chat-send": "as intake-chat-session",
    "intake-chat-close": "as intake-chat-session",
    "intake-chat-case": "as intake-chat-session",
    "intake-chat-attach": "as intake-chat-session",
    "open311-discovery": "Open311 discovery document, public; `fmt` is json or xml",
    "open311-services": "Open311 service list, public; `fmt` is json or xml",
    "open311-service": "Open311 service definition (a case type), public",
    "open311-request": "Open311: public hot questions for anyone, a partner's own requests with its api_key, "
    "404 otherwise; no personal data (tests/integrations/test_open311.py)",
    "open311-requests": "Open311 request list, as open311-request",
    "open311-token": "Open311 token → request id of a request a partner posted (tests/integrations/test_open311.py)",
}
# Django admin: staff only. A unit user is sent to the admin login whatever the id (checked below for
# every admin route), so no object of any unit is reachable there.
ADMIN_PREFIX = "admin/"

# Office records closed by role: the route answers the same for any id, existing or not (no hint that the
# object exists), with 403 for a role that may never use it. Checked: same status for the real id as for a
# missing one, and nothing saved.
ROLE_CLOSED = {
    "api-blacklist-detail": "blacklist management is for the office's dispatchers, monitors and admins",
    "api-extended-field": "extended fields are configuration for system administrators",
    "citizen-blacklist-remove": "as api-blacklist-detail (the page)",
}

WRITE_METHODS = ("post", "put", "patch", "delete")
MISSING_ID = 987654321


@dataclass(frozen=True)
class Route:
    name: str
    route: str
    kwargs: tuple[str, ...]


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[Route]:
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            kwargs = tuple(p.pattern.regex.groupindex)
            if kwargs:
                yield Route(p.name or "", prefix + str(p.pattern), kwargs)


def routes_with_kwargs() -> list[Route]:
    return list(_walk(get_resolver().url_patterns))


def test_every_route_with_a_kwarg_is_classified() -> None:
    unclassified, doubly = [], []
    for route in routes_with_kwargs():
        if route.route.startswith(ADMIN_PREFIX):
            continue
        if route.name not in ROUTES and route.name not in EXCEPTIONS:
            unclassified.append((route.name, route.route))
        if route.name in ROUTES and route.name in EXCEPTIONS:
            doubly.append(route.name)
    assert unclassified == [], f"classify these routes in {__name__}.ROUTES or EXCEPTIONS: {unclassified}"
    assert doubly == []
    names = {r.name for r in routes_with_kwargs()}
    stale = sorted((set(ROUTES) | set(EXCEPTIONS)) - names)
    assert stale == [], f"no such routes any more: {stale}"


# ---------------------------------------------------------------------------------------------------------
# One world of objects for the whole module (built once, rolled back at the end; each test in a savepoint).


@dataclass
class Cast:
    world: UnitWorld
    outsiders: list[User]
    insiders: dict[str, User]  # object kind -> a user who may reach it (proves the id is a live one)


def _insider_for(kind: str, people: Any, cast_users: dict[str, User]) -> User:
    if kind.startswith("kb_"):
        return cast_users["tax_editor"]
    if kind in ("missed_call", "blacklist", "import_job"):
        return people.dispatcher
    if kind == "extended_field":
        return cast_users["admin"]
    return people.east


@pytest.fixture(scope="module")
def cast(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any) -> Iterator[Cast]:
    from hotline.knowledge.engine import reset_engines

    mp = pytest.MonkeyPatch()
    mp.setenv("HOTLINE_KB_INDEX_DIR", str(tmp_path_factory.mktemp("kb-index")))
    reset_engines()
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            city = factories.city_build()
            people = factories.people_build(city)
            world = factories.unit_world(city, people)
            west_leader = factories.user("west_leader", city.west, Role.UNIT_LEADER)
            west_comm = factories.user("west_comm", city.west_comm, Role.UNIT_HANDLER)
            others = {
                "tax_editor": User.objects.get(username="kb-editor"),
                "admin": User.objects.get(username="ext-admin"),
            }
            insiders = {kind: _insider_for(kind, people, others) for kind in KINDS}
            outsiders = [
                people.west,
                people.west_street,
                west_comm,
                people.heping,
                people.housing,
                west_leader,
            ]
            yield Cast(world, outsiders, insiders)
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            reset_engines()
            mp.undo()


def _digest() -> str:
    """Every row of every project table except the audit log (a refused request may be audited)."""
    h = hashlib.sha256()
    for model in apps.get_models():
        if not model.__module__.startswith("hotline.") or model is AuditLog:
            continue
        fields = [f.attname for f in model._meta.concrete_fields if f.attname != "last_login"]
        for row in model._default_manager.order_by("pk").values_list(*fields):
            h.update(repr((model._meta.label, row)).encode())
    return h.hexdigest()


def _body(world: UnitWorld) -> dict[str, Any]:
    """A body a permitted user could send: versions, an opinion, a unit — so a leak would act, not fail on 400."""
    return {
        "version": world.case.version,
        "expected_version": world.case.version,
        "opinion": "越权测试",
        "reason": "越权测试",
        "text": "越权测试",
        "message": "越权测试",
        "result": "越权测试",
        "approve": "1",
        "name": "越权测试",
        "title": "越权测试",
        "content": "越权测试",
        "action": "publish",
        "helpful": "1",
        "target": world.case.pk,
    }


def _client(user: User) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _urls(name: str, kwargs: dict[str, Any]) -> list[str]:
    if name == "case-act":
        return [reverse(name, kwargs={**kwargs, "slug": slug}) for slug in CASE_ACTIONS]
    if name == "assignment-act":
        return [reverse(name, kwargs={**kwargs, "slug": slug}) for slug in ASSIGNMENT_ACTIONS]
    return [reverse(name, kwargs=kwargs)]


def _missing(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: (MISSING_ID if isinstance(v, int) else "zzzzzzzz") for k, v in kwargs.items()}


def _answers(client: Client, url: str, body: dict[str, Any]) -> dict[str, int]:
    answers = {"get": client.get(url).status_code}
    for method in WRITE_METHODS:
        if url.startswith("/api/"):
            response = getattr(client, method)(url, body, content_type="application/json")
        elif method == "post":
            response = client.post(url, body)
        else:
            continue
        answers[method] = response.status_code
    return answers


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_another_unit_gets_404(name: str, cast: Cast, db: Any) -> None:
    kind = ROUTES[name]
    kwargs = KINDS[kind](cast.world)
    body = _body(cast.world)
    clients = {u.username: _client(u) for u in cast.outsiders}
    before = _digest()
    leaks = []
    for url in _urls(name, kwargs):
        for username, client in clients.items():
            answers = _answers(client, url, body)
            if name in ROLE_CLOSED:
                # Same answer as for an object that does not exist, and never a success.
                missing = _answers(client, _urls(name, _missing(kwargs))[0], body)
                bad = {m: s for m, s in answers.items() if s != missing[m] or s not in (403, 404, 405)}
            else:
                # 405: the route does not take that method at all (refused before any look-up).
                bad = {m: s for m, s in answers.items() if s not in (404, 405)}
            if bad:
                leaks.append((username, url, bad))
    if _digest() != before:
        leaks.append((name, "saved something"))
    assert leaks == []
    # The id is a live one: a user who may reach the object does not get 404 on every method.
    insider = _client(cast.insiders[kind])
    url = _urls(name, kwargs)[0]
    answers = _answers(insider, url, body)
    assert any(s not in (404, 405) for s in answers.values()), (name, url, answers)


def test_admin_routes_send_a_unit_user_to_the_admin_login(cast: Cast, db: Any) -> None:
    client = _client(cast.outsiders[0])
    before = _digest()
    wrong = []
    for route in routes_with_kwargs():
        if not route.route.startswith(ADMIN_PREFIX) or "(?P" in route.route or "^" in route.route:
            continue
        url = "/" + route.route
        for kwarg in route.kwargs:
            url = url.replace(f"<path:{kwarg}>", str(cast.world.case.pk)).replace(
                f"<int:{kwarg}>", str(cast.world.case.pk)
            )
            url = url.replace(f"<{kwarg}>", str(cast.world.case.pk))
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            if response.status_code != 302 or "/admin/login/" not in response["Location"]:
                wrong.append((url, method, response.status_code))
    assert wrong == []
    assert _digest() == before
