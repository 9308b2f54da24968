"""Plain object builders for tests, written through the services (no row is made behind a service's back
unless the domain has no service for it). The small city and its people are the fixtures of tests/conftest.py;
these functions add what a test needs on top of them.

`unit_world(city, people)` builds one object of every kind a route can name by id, all owned by one side of
the city (the east district's chain for cases, the tax bureau for a knowledge directory, the hotline office for
office records), so a user of any other unit has no business with any of them (tests/test_cross_unit_scoping.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from hotline.cases import merge
from hotline.cases import services as case_services
from hotline.cases.extfields import ExtendedFieldInput, extended_field_create
from hotline.cases.models import (
    Assignment,
    AssignmentRole,
    Case,
    CaseAttachment,
    CoRequester,
    ExtensionRequest,
)
from hotline.citizens import jobs as citizen_jobs
from hotline.citizens import services as citizen_services
from hotline.citizens.models import BlacklistEntry, Citizen, ImportJob, RelatedContact
from hotline.common import clock
from hotline.common.dictionaries import seed_dictionaries
from hotline.common.models import DictItem
from hotline.knowledge import services as kb_services
from hotline.knowledge.models import Attachment as KbAttachment
from hotline.knowledge.models import Directory, Item, ItemVersion, Space
from hotline.notify.defaults import seed_templates
from hotline.notify.models import MessageTemplate, Outbox
from hotline.orgs import tokens
from hotline.orgs.models import Role, Unit, UnitKind, User
from hotline.orgs.services import unit_create, user_create
from hotline.sla import calendar as sla_calendar
from hotline.sla.defaults import seed_all as seed_sla_defaults
from hotline.telephony import services as tel_services
from hotline.telephony.models import MissedCall, Queue

# The smallest valid PNG: the attachment allow-list checks content, not the name.
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)
PASSWORD = "pw-123456"


def unit(name: str, code: str, kind: str, parent: Unit | None = None, **extra: Any) -> Unit:
    return unit_create(name=name, code=code, kind=kind, parent=parent, **extra)


def user(username: str, unit: Unit | None, *roles: str, **extra: Any) -> User:
    return user_create(
        username=username, password=PASSWORD, full_name=username, unit=unit, roles=roles, **extra
    )


def png(name: str = "photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def case_submitted(city: Any, people: Any, *, attachments: tuple[Any, ...] = (), **overrides: Any) -> Case:
    from tests.conftest import case_input

    return case_services.case_intake(
        actor=people.agent, data=case_input(city, **overrides), attachments=attachments
    ).case


def case_dispatched(
    city: Any, people: Any, main: Unit, *, attachments: tuple[Any, ...] = (), **overrides: Any
) -> Case:
    case = case_submitted(city, people, attachments=attachments, **overrides)
    return case_services.case_dispatch(
        case=case,
        actor=people.dispatcher,
        expected_version=case.version,
        targets=[case_services.Target(main, AssignmentRole.MAIN)],
    )


def assignment_signed(case: Case, unit: Unit, actor: User) -> Assignment:
    assignment = Assignment.objects.filter(case=case, unit=unit).latest("id")
    return case_services.assignment_sign_for(assignment=assignment, actor=actor, expected_version=None)


def extension_requested(assignment: Assignment, actor: User, days: int = 5) -> ExtensionRequest:
    due = assignment.due_at or clock.now()
    return case_services.assignment_request_extension(
        assignment=assignment,
        actor=actor,
        expected_version=None,
        requested_due_at=due + dt.timedelta(days=days),
        reason="需协调多个部门",
    )


def co_requester(city: Any, people: Any, into: Case) -> CoRequester:
    other = case_submitted(city, people, citizen_phone="13912345678", citizen_name="赵先生")
    return merge.case_merge(case=other, into=into, actor=people.agent, expected_version=other.version)


def contact_added(citizen: Citizen, actor: User) -> RelatedContact:
    return citizen_services.contact_create(
        citizen=citizen,
        actor=actor,
        data=citizen_services.ContactInput(name="王先生", relation="配偶", phone="13700000001"),
    )


def blacklisted(number: str, actor: User) -> BlacklistEntry:
    return citizen_services.blacklist_add(
        actor=actor, data=citizen_services.BlacklistInput(number=number, reason="恶意骚扰")
    )


def import_job(actor: User) -> ImportJob:
    csv = "姓名,电话\n张三,13600000001\n".encode()
    return citizen_jobs.import_queue(kind="citizens", upload=SimpleUploadedFile("c.csv", csv), actor=actor)


def missed_call(number: str = "13700001234", call_id: str = "missed-1") -> MissedCall:
    call = tel_services.call_arrive(
        call_id=call_id, leg_id=f"in-{call_id}", caller=number, dialed="12345", node="n"
    )
    queue = Queue.objects.filter(code="general").first()
    if queue is not None:
        tel_services.call_enqueue(call=call, queue=queue)
        tel_services.call_end(call=call)
    missed = MissedCall.objects.filter(call=call).first()
    return missed or tel_services.missed_call_add(call=call, reason="abandoned", at=clock.now())


def city_build() -> Any:
    """The small city of tests/conftest.py (`city` fixture): office, bureaus, two districts with streets and
    communities, with the reference data the migrations seed (transactional tests flush them)."""
    from tests.conftest import City

    seed_dictionaries(DictItem)
    seed_sla_defaults()
    seed_templates(MessageTemplate)
    sla_calendar.invalidate()
    office = unit_create(name="市12345热线办", code="OFFICE", kind=UnitKind.OFFICE)
    tax = unit_create(name="市税务局", code="B-TAX", kind=UnitKind.BUREAU, is_vertical=True)
    housing = unit_create(name="市住建局", code="B-HOUSING", kind=UnitKind.BUREAU)
    east = unit_create(name="东湖区", code="D-EAST", kind=UnitKind.DISTRICT)
    east_cg = unit_create(name="东湖区城管局", code="D-EAST-CG", kind=UnitKind.BUREAU, parent=east)
    liyuan = unit_create(name="梨园街道", code="S-LIYUAN", kind=UnitKind.STREET, parent=east)
    xingfu = unit_create(name="幸福社区", code="C-XINGFU", kind=UnitKind.COMMUNITY, parent=liyuan)
    heping = unit_create(name="和平社区", code="C-HEPING", kind=UnitKind.COMMUNITY, parent=liyuan)
    guanshan = unit_create(name="关山街道", code="S-GUANSHAN", kind=UnitKind.STREET, parent=east)
    west = unit_create(name="西湖区", code="D-WEST", kind=UnitKind.DISTRICT)
    west_street = unit_create(name="西湖街道", code="S-WEST", kind=UnitKind.STREET, parent=west)
    west_comm = unit_create(name="西湖社区", code="C-WEST", kind=UnitKind.COMMUNITY, parent=west_street)
    return City(
        office, tax, housing, east, east_cg, liyuan, xingfu, heping, guanshan, west, west_street, west_comm
    )


def people_build(city: Any) -> Any:
    """The people of tests/conftest.py (`people` fixture): one per role of the office, one per unit."""
    from tests.conftest import People

    return People(
        agent=user("agent", city.office, Role.AGENT),
        dispatcher=user("dispatcher", city.office, Role.DISPATCHER),
        leader=user("leader", city.office, Role.LEADER),
        monitor=user("monitor", city.office, Role.MONITOR),
        tax=user("tax", city.tax, Role.UNIT_HANDLER),
        housing=user("housing", city.housing, Role.UNIT_HANDLER),
        east=user("east", city.east, Role.UNIT_HANDLER),
        east_leader=user("east_leader", city.east, Role.UNIT_LEADER),
        east_cg=user("east_cg", city.east_cg, Role.UNIT_HANDLER),
        liyuan=user("liyuan", city.liyuan, Role.UNIT_HANDLER),
        liyuan_leader=user("liyuan_leader", city.liyuan, Role.UNIT_LEADER),
        xingfu=user("xingfu", city.xingfu, Role.UNIT_HANDLER),
        heping=user("heping", city.heping, Role.UNIT_HANDLER),
        guanshan=user("guanshan", city.guanshan, Role.UNIT_HANDLER),
        west=user("west", city.west, Role.UNIT_HANDLER),
        west_street=user("west_street", city.west_street, Role.UNIT_HANDLER),
    )


@dataclass
class KbWorld:
    space: Space
    admin: User
    directory: Directory  # only the unit it was granted to reads, edits and reviews in it
    item: Item  # published, in `directory`
    pending: ItemVersion  # a change of `item` waiting for review
    attachment: KbAttachment  # a file of the published item


def kb_directory_for(city: Any, granted: Unit) -> KbWorld:
    root = user("kb-root", city.office, Role.ADMIN)
    admin = user("kb-admin", city.office)
    space = kb_services.space_create(actor=root, name="12345知识库", code="HOTLINE", admins=[admin])
    directory = kb_services.directory_create(
        actor=admin,
        space=space,
        name="税务",
        # The unit reads and edits; only the space's administrator reviews, so a change stays pending.
        grants=[kb_services.GrantInput(unit=granted, can_read=True, can_edit=True)],
    )
    item = kb_services.item_create(
        actor=admin,
        directory=directory,
        data=kb_services.ItemInput(title="个税汇算清缴", content="每年3月1日至6月30日办理。", is_public=True),
        attachments=[SimpleUploadedFile("guide.txt", "办理指南".encode())],
    )
    pending = kb_services.item_update(
        actor=user("kb-editor", granted, Role.KB_EDITOR),
        item=item,
        data=kb_services.ItemInput(title="个税汇算清缴（修订）", content="修订稿。"),
    )
    return KbWorld(
        space=space,
        admin=admin,
        directory=directory,
        item=Item.objects.get(pk=item.pk),
        pending=ItemVersion.objects.get(pk=pending.pk),
        attachment=KbAttachment.objects.filter(item=item).latest("id"),
    )


@dataclass
class UnitWorld:
    """One object of every kind a route names by id, none of them the business of a unit outside the chain
    office → east district (main) → liyuan street (forwarded), or of the tax bureau's knowledge directory."""

    case: Case
    assignment: Assignment  # the east district's (main unit) step
    extension: ExtensionRequest
    attachment: CaseAttachment
    notice: Outbox  # an in-app notice addressed to the east handler
    co_requester: CoRequester
    citizen: Citizen
    contact: RelatedContact
    blacklist: BlacklistEntry
    import_job: ImportJob
    missed: MissedCall
    extended_field: Any
    token_prefix: str  # the east handler's API token
    kb: KbWorld
    bulletin: Any  # sent by the east handler to the east district
    bulletin_attachment: Any
    sms_group: Any  # the east district's SMS contact group, sent to once
    sms_group_send: Any


def unit_world(city: Any, people: Any) -> UnitWorld:
    case = case_dispatched(city, people, city.east, attachments=(png(),), citizen_email="wang@example.com")
    assignment = assignment_signed(case, city.east, people.east)
    extension = extension_requested(assignment, people.east)
    co = co_requester(city, people, Case.objects.get(pk=case.pk))
    citizen = Case.objects.get(pk=case.pk).citizen
    assert citizen is not None
    case_services.case_urge(
        case=Case.objects.get(pk=case.pk),
        actor=people.dispatcher,
        expected_version=None,
        message="请尽快办理",
    )
    notice = Outbox.objects.filter(recipient=people.east, channel="in_app").latest("id")
    field = extended_field_create(
        actor=user("ext-admin", city.office, Role.ADMIN),
        data=ExtendedFieldInput(key="shop_name", label="店铺名称", field_type="text"),
    )
    tokens.token_issue(user=people.east)
    bulletin = _bulletin_sent(city, people)
    sms_group, sms_group_send = _sms_group_sent(people)
    return UnitWorld(
        case=Case.objects.get(pk=case.pk),
        assignment=Assignment.objects.get(pk=assignment.pk),
        extension=extension,
        attachment=CaseAttachment.objects.get(case=case),
        notice=notice,
        co_requester=co,
        citizen=citizen,
        contact=contact_added(citizen, people.agent),
        blacklist=blacklisted("13800000099", people.dispatcher),
        import_job=import_job(people.agent),
        missed=missed_call(),
        extended_field=field,
        token_prefix=tokens.token_list(user=people.east)[0]["prefix"],
        kb=kb_directory_for(city, city.tax),
        bulletin=bulletin,
        bulletin_attachment=bulletin.attachments.get(),
        sms_group=sms_group,
        sms_group_send=sms_group_send,
    )


def _sms_group_sent(people: Any) -> tuple[Any, Any]:
    from hotline.intake.sms import groups

    group = groups.sms_group_create(actor=people.east, name="网格员", phones="王主任 13911112222")
    return group, groups.sms_group_send(actor=people.east, pk=group.pk, text="明日停水，请转告居民。")


def _bulletin_sent(city: Any, people: Any) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from hotline.bulletins import services as bulletins
    from hotline.bulletins.models import BulletinKind

    pdf = SimpleUploadedFile("值班表.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    data = bulletins.BulletinInput(
        kind=BulletinKind.objects.get_or_create(name="通知公告")[0], subject="区内通知", body="东区内部事项",
        units=[city.east], attachments=[pdf],
    )  # fmt: skip
    draft = bulletins.bulletin_save_draft(actor=people.east, data=data)
    return bulletins.bulletin_send(actor=people.east, bulletin=draft)
