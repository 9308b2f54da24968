import pytest

from hotline.cases import services
from hotline.cases.lifecycle import Action
from hotline.cases.models import Case, CaseEvent, CaseStatus, CloseKind, ExtendedField
from hotline.citizens.models import Citizen
from hotline.common.crypto import check_code
from hotline.common.errors import NotAllowed, ServiceError
from hotline.common.models import AuditLog, DictKind
from tests.conftest import case_input, dict_item, fresh, submitted_case


def test_submit_creates_case_with_number_event_citizen_and_password(city, people):
    result = services.case_intake(
        actor=people.agent, data=case_input(city, citizen_id_card="11010519491231002X")
    )
    case = result.case
    assert case.status == CaseStatus.SUBMITTED
    assert len(case.number) == 14 and case.number.isdigit()
    assert case.district == city.east  # derived from the incident location
    assert result.query_password and check_code(result.query_password, case.query_password)
    assert [e.action for e in case.events.all()] == [Action.CREATE, Action.SUBMIT]
    citizen = Citizen.objects.get(phone="13812345678")
    assert case.citizen == citizen and citizen.id_card == "11010519491231002X"
    assert "11010519491231002X" not in citizen.id_card_encrypted  # encrypted at rest
    assert AuditLog.objects.filter(object_type="cases.case", object_id=str(case.pk)).exists()


def test_case_numbers_are_unique_and_sequential(city, people):
    first = submitted_case(city, people)
    second = submitted_case(city, people)
    assert int(second.number) == int(first.number) + 1


def test_public_case_gets_no_password(city, people):
    result = services.case_intake(actor=people.agent, data=case_input(city, is_public=True))
    assert result.query_password is None and result.case.query_password == ""


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"content": "太吵了"}, "content"),
        ({"citizen_phone": "1381234"}, "citizen_phone"),
        ({"citizen_id_card": "110105194912310021"}, "citizen_id_card"),
        ({"citizen_phone": "", "citizen_email": ""}, "citizen_phone"),
    ],
)
def test_bad_input_is_rejected_and_nothing_is_saved(city, people, override, field):
    with pytest.raises(ServiceError) as err:
        services.case_intake(actor=people.agent, data=case_input(city, **override))
    assert field in err.value.field_errors
    assert Case.objects.count() == 0 and Citizen.objects.count() == 0 and CaseEvent.objects.count() == 0


def test_all_field_errors_are_reported_together(city, people):
    with pytest.raises(ServiceError) as err:
        services.case_intake(actor=people.agent, data=case_input(city, content="短", citizen_phone="12"))
    assert {"content", "citizen_phone"} <= set(err.value.field_errors)
    assert "不少于50个字" in err.value.field_errors["content"][0]


def test_wrong_dictionary_kind_is_rejected(city, people):
    with pytest.raises(ServiceError) as err:
        services.case_intake(
            actor=people.agent, data=case_input(city, nature=dict_item(DictKind.URGENCY, "urgent"))
        )
    assert "nature" in err.value.field_errors


def test_draft_may_be_incomplete_but_cannot_be_submitted_until_complete(city, people):
    draft = services.case_intake(
        actor=people.agent, data=case_input(city, content="先记下来"), action=Action.SAVE_DRAFT
    ).case
    assert draft.status == CaseStatus.DRAFT
    with pytest.raises(ServiceError):
        services.case_take_intake_action(
            case=draft, actor=people.agent, action=Action.SUBMIT, expected_version=None
        )
    services.case_edit(case=draft, actor=people.agent, expected_version=draft.version, data=case_input(city))
    services.case_take_intake_action(
        case=draft, actor=people.agent, action=Action.SUBMIT, expected_version=draft.version
    )
    assert fresh(draft).status == CaseStatus.SUBMITTED


def test_answer_and_archive(city, people):
    with pytest.raises(ServiceError):
        services.case_intake(actor=people.agent, data=case_input(city), action=Action.ARCHIVE)
    case = services.case_intake(
        actor=people.agent, data=case_input(city), action=Action.ARCHIVE, answer="已告知办理流程。"
    ).case
    assert case.status == CaseStatus.CLOSED and case.close_kind == CloseKind.ANSWERED and case.closed_at


def test_not_accepted_needs_reason_and_dispatcher_confirmation(city, people):
    reason = dict_item(DictKind.NOT_ACCEPTED_REASON, "litigation")
    with pytest.raises(ServiceError):
        services.case_intake(actor=people.agent, data=case_input(city), action=Action.PROPOSE_NOT_ACCEPTED)
    case = services.case_intake(
        actor=people.agent,
        data=case_input(city),
        action=Action.PROPOSE_NOT_ACCEPTED,
        not_accepted_reason=reason,
        not_accepted_text="已起诉",
    ).case
    assert case.status == CaseStatus.PENDING_NOT_ACCEPTED
    with pytest.raises(NotAllowed):
        services.case_confirm_not_accepted(case=case, actor=people.agent, expected_version=None)
    services.case_confirm_not_accepted(case=case, actor=people.dispatcher, expected_version=None)
    assert fresh(case).status == CaseStatus.NOT_ACCEPTED


def test_dispatcher_may_reject_a_not_accepted_proposal(city, people):
    case = services.case_intake(
        actor=people.agent,
        data=case_input(city),
        action=Action.PROPOSE_NOT_ACCEPTED,
        not_accepted_reason=dict_item(DictKind.NOT_ACCEPTED_REASON, "other"),
    ).case
    services.case_reject_not_accepted(
        case=case, actor=people.dispatcher, expected_version=None, opinion="属于受理范围"
    )
    case = fresh(case)
    assert case.status == CaseStatus.SUBMITTED and case.not_accepted_reason is None


def test_units_cannot_take_calls(city, people):
    with pytest.raises(NotAllowed):
        services.case_intake(actor=people.east, data=case_input(city))


def test_extended_fields_are_validated_per_bureau_and_type(city, people):
    ExtendedField.objects.create(
        bureau=city.housing, key="building_year", label="建成年份", field_type="number", required=True
    )
    ExtendedField.objects.create(bureau=city.tax, key="tax_no", label="纳税人识别号", field_type="text")
    with pytest.raises(ServiceError) as err:
        services.case_intake(actor=people.agent, data=case_input(city, extra={"tax_no": "1"}))
    assert set(err.value.field_errors) == {"extra.building_year", "extra.tax_no"}
    with pytest.raises(ServiceError):
        services.case_intake(actor=people.agent, data=case_input(city, extra={"building_year": "很久"}))
    case = services.case_intake(actor=people.agent, data=case_input(city, extra={"building_year": 1998})).case
    assert case.extra == {"building_year": 1998}


def test_retired_bureau_cannot_be_chosen(city, people):
    from hotline.orgs.services import unit_retire

    unit_retire(unit=city.housing, actor=None)
    city.housing.refresh_from_db()
    with pytest.raises(ServiceError) as err:
        services.case_intake(actor=people.agent, data=case_input(city))
    assert "bureau" in err.value.field_errors


def test_sms_to_the_caller_at_intake(city, people):
    from hotline.notify.models import Outbox

    result = services.case_intake(actor=people.agent, data=case_input(city), sms_template="citizen_received")
    message = Outbox.objects.get(address="13812345678")
    assert (
        message.channel == "sms"
        and result.case.number in message.body
        and result.query_password not in message.body  # staff read the outbox: the password is sealed
        and "查询密码******" in message.body
    )
    assert result.case.events.filter(action="sms_citizen").exists()
    with pytest.raises(ServiceError) as err:
        services.case_intake(
            actor=people.agent,
            data=case_input(city, citizen_phone="027-87654321"),
            sms_template="citizen_received",
        )
    assert "手机号码" in err.value.field_errors["sms_template"][0]
    with pytest.raises(ServiceError):
        services.case_intake(actor=people.agent, data=case_input(city), sms_template="sla_red")


class _SeeingHook:
    """A flow hook that only records what the lifecycle's check shows it."""

    def __init__(self) -> None:
        self.checks: list[tuple[str, str, str, int, str | None, object]] = []

    def pin(self, case: Case) -> None:
        pass

    def check(self, action, *, case, user, status, transition, target=None) -> None:
        self.checks.append((action, status, case.status, case.version, target, case.submitted_at))

    def narrow(self, case, user, actions):
        return actions

    def units(self, case, status, units) -> None:
        return None

    def step(self, case, status, *, unit_kind="") -> None:
        return None


@pytest.mark.parametrize(
    ("action", "target", "extra"),
    [
        (Action.SUBMIT, CaseStatus.SUBMITTED, {}),
        (Action.ARCHIVE, CaseStatus.CLOSED, {"answer": "已告知办理流程。"}),
        (
            Action.PROPOSE_NOT_ACCEPTED,
            CaseStatus.PENDING_NOT_ACCEPTED,
            {"not_accepted_text": "已起诉"},
        ),
    ],
)
def test_the_intake_action_is_in_the_inserted_row_and_judged_on_the_draft(
    city, people, monkeypatch, action, target, extra
):
    """Issue 12: the case is inserted already moved by the agent's action (no draft insert + UPDATE writing every
    index of the case table twice), yet the lifecycle and the flow template judge the action on the draft, and
    the timeline, audit rows and version are those of a draft created and then moved on."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from hotline.cases import flowhooks

    hook = _SeeingHook()
    monkeypatch.setattr(flowhooks, "_HOOK", [hook])
    if action == Action.PROPOSE_NOT_ACCEPTED:
        extra = {**extra, "not_accepted_reason": dict_item(DictKind.NOT_ACCEPTED_REASON, "litigation")}
    with CaptureQueriesContext(connection) as queries:
        case = services.case_intake(actor=people.agent, data=case_input(city), action=action, **extra).case
    table = Case._meta.db_table
    writes = [
        q["sql"].split(" ", 1)[0]
        for q in queries.captured_queries
        if q["sql"].startswith((f'INSERT INTO "{table}" ', f'UPDATE "{table}" '))
    ]
    assert writes == ["INSERT"]
    assert hook.checks == [(action, CaseStatus.DRAFT, CaseStatus.DRAFT, 1, target, None)]
    row = fresh(case)
    assert (row.status, row.version) == (case.status, case.version) == (target, 2)
    assert (row.submitted_at is not None) == (action == Action.SUBMIT)
    assert [(e.action, e.from_status, e.to_status) for e in row.events.order_by("pk")] == [
        (Action.CREATE, "", CaseStatus.DRAFT),
        (action, CaseStatus.DRAFT, target),
    ]
    audits = AuditLog.objects.filter(object_type="cases.case", object_id=str(case.pk)).order_by("pk")
    assert [a.action for a in audits] == ["update", "update"]
    assert row.clocks.filter(stage="total").exists() == (action == Action.SUBMIT)


def test_a_flow_refusal_of_the_intake_action_leaves_nothing(city, people, monkeypatch):
    from hotline.cases import flowhooks

    class Refusing(_SeeingHook):
        def check(self, action, *, case, user, status, transition, target=None) -> None:
            raise ServiceError("模板不允许", code="flow_refused")

    monkeypatch.setattr(flowhooks, "_HOOK", [Refusing()])
    before = Case.objects.count(), CaseEvent.objects.count()
    with pytest.raises(ServiceError):
        services.case_intake(actor=people.agent, data=case_input(city))
    assert (Case.objects.count(), CaseEvent.objects.count()) == before
