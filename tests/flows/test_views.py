"""The flow template screens and API: managers only (others 404 on ids, 403 on lists), the formset editor with
field errors, publishing with the validation problems shown, JSON export/import, the SVG graph, and the case
page's position card (for whoever may see the case)."""

from __future__ import annotations

import copy
import json
from html.parser import HTMLParser

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from hotline.flows import definition, services
from hotline.flows.defaults import default_flow_json
from hotline.flows.models import FlowTemplate, FlowVersion, VersionStatus
from tests.conftest import as_user, submitted_case


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _published(actor) -> FlowVersion:
    version = services.template_import(actor=actor, data=default_flow_json())
    services.version_submit(actor=actor, version=version)
    return services.version_publish(actor=actor, version=version)


def formset_post(flow_json: dict) -> dict[str, str | list[str]]:
    steps, transitions = flow_json["steps"], flow_json["transitions"]
    data: dict[str, str | list[str]] = {
        "steps-TOTAL_FORMS": str(len(steps)),
        "steps-INITIAL_FORMS": "0",
        "transitions-TOTAL_FORMS": str(len(transitions)),
        "transitions-INITIAL_FORMS": "0",
    }
    for n, s in enumerate(steps):
        limit = s.get("limit") or {}
        data |= {
            f"steps-{n}-code": s["code"],
            f"steps-{n}-name": s["name"],
            f"steps-{n}-kind": s.get("kind", "single"),
            f"steps-{n}-statuses": list(s.get("statuses", [])),
            f"steps-{n}-roles": list(s.get("roles", [])),
            f"steps-{n}-unit_level": s.get("unit_level", ""),
            f"steps-{n}-limit_amount": str(limit.get("amount") or ""),
            f"steps-{n}-limit_unit": limit.get("unit") or "workdays",
            f"steps-{n}-dispatch_mode": s.get("dispatch_mode", ""),
        }
    for n, t in enumerate(transitions):
        data |= {
            f"transitions-{n}-source": t["from"],
            f"transitions-{n}-target": t["to"],
            f"transitions-{n}-action": t.get("action", ""),
            f"transitions-{n}-label": t.get("label", ""),
            f"transitions-{n}-guard": t.get("guard", ""),
        }
    return data


def test_outsiders_get_404_on_every_id(city, people):
    version = _published(people.dispatcher)
    template = version.template
    routes = [
        ("flows:flow-template", {"pk": template.pk}),
        ("flows:flow-template-status", {"pk": template.pk}),
        ("flows:flow-version-new", {"pk": template.pk}),
        ("flows:flow-version", {"pk": version.pk}),
        ("flows:flow-edit", {"pk": version.pk}),
        ("flows:flow-export", {"pk": version.pk}),
        ("flows:flow-svg", {"pk": version.pk}),
        ("flows:flow-move", {"pk": version.pk, "move": "publish"}),
        ("api-flow-template", {"pk": template.pk}),
        ("api-flow-version", {"pk": version.pk}),
    ]
    for outsider in (people.agent, people.monitor, people.east, people.east_leader, people.housing):
        client = _client(outsider)
        for name, kwargs in routes:
            url = reverse(name, kwargs=kwargs)
            assert client.get(url).status_code in (404, 405), (outsider, name)
            assert client.post(url, {"move": "retire"}).status_code in (404, 405), (outsider, name)
        assert client.get(reverse("flows:list")).status_code == 403
        assert (
            client.post(reverse("flows:new"), {"code": "x", "name": "x", "priority": "0"}).status_code == 403
        )
        assert client.get(reverse("api-flow-templates")).status_code == 403
        assert (
            client.post(
                reverse("api-flow-import"), default_flow_json(), content_type="application/json"
            ).status_code
            == 403
        )
    template.refresh_from_db()
    assert template.status == "active" and FlowTemplate.objects.count() == 1
    manager = _client(people.dispatcher)
    for name, kwargs in routes:
        if name not in (
            "flows:flow-template-status",
            "flows:flow-version-new",
            "flows:flow-move",
            "flows:flow-edit",
        ):
            assert manager.get(reverse(name, kwargs=kwargs)).status_code == 200, name


def test_editor_saves_formsets_and_shows_field_errors(city, people):
    client = _client(people.dispatcher)
    page = client.post(
        reverse("flows:new"),
        {"code": "consult", "name": "咨询流程", "priority": "1", "case_types": ["consult"]},
    )
    assert page.status_code == 302
    template = FlowTemplate.objects.get(code="consult")
    assert template.case_types == ["consult"]
    draft = template.versions.get()
    edit_url = reverse("flows:flow-edit", kwargs={"pk": draft.pk})
    assert client.get(edit_url).status_code == 200

    bad = copy.deepcopy(default_flow_json())
    bad["transitions"][0]["guard"] = "open('/etc/passwd')"
    page = client.post(edit_url, formset_post(bad))
    assert page.status_code == 400
    assert "控制条件无效" in page.content.decode() and "不能调用函数" in page.content.decode()
    assert draft.steps.count() == 0  # nothing half-saved

    bad = copy.deepcopy(default_flow_json())
    bad["transitions"][0]["to"] = "nowhere"
    page = client.post(edit_url, formset_post(bad))
    assert page.status_code == 400 and "不存在的环节“nowhere”" in page.content.decode()

    form = formset_post(default_flow_json())
    form["steps-0-code"] = "bad code!"
    page = client.post(edit_url, form)
    assert page.status_code == 400 and "请改正" in page.content.decode()

    page = client.post(edit_url, formset_post(default_flow_json()))
    assert page.status_code == 302
    flow = definition.from_version(draft)
    assert flow.as_json() == definition.from_json(default_flow_json()).as_json()


def test_publish_workflow_shows_validation_problems(city, people):
    client = _client(people.dispatcher)
    broken = copy.deepcopy(default_flow_json())
    broken["transitions"] = [t for t in broken["transitions"] if t["from"] != "supervision"]
    version = services.template_import(actor=people.dispatcher, data=broken)
    page = client.get(reverse("flows:flow-version", kwargs={"pk": version.pk}))
    assert "死路" in page.content.decode() and 'data-testid="flow-problems"' in page.content.decode()
    assert "会签（多单位并行）" in page.content.decode() and "待签收、办理中、重办" in page.content.decode()
    page = client.post(reverse("flows:flow-move", kwargs={"pk": version.pk, "move": "submit"}))
    assert page.status_code == 400 and "特别督办" in page.content.decode()
    assert FlowVersion.objects.get(pk=version.pk).status == VersionStatus.DRAFT
    assert (
        client.post(reverse("flows:flow-move", kwargs={"pk": version.pk, "move": "nonsense"})).status_code
        == 404
    )

    services.version_save_definition(
        actor=people.dispatcher, version=version, flow=definition.from_json(default_flow_json())
    )
    assert (
        client.post(reverse("flows:flow-move", kwargs={"pk": version.pk, "move": "submit"})).status_code
        == 302
    )
    assert (
        client.post(reverse("flows:flow-move", kwargs={"pk": version.pk, "move": "publish"})).status_code
        == 302
    )
    assert FlowVersion.objects.get(pk=version.pk).status == VersionStatus.PUBLISHED
    # published: the editor refuses, the graph is there
    page = client.get(reverse("flows:flow-edit", kwargs={"pk": version.pk}))
    assert page.status_code == 302
    svg = client.get(reverse("flows:flow-svg", kwargs={"pk": version.pk}))
    assert svg["Content-Type"] == "image/svg+xml" and svg.content.count(b'class="flow-step') == 11

    page = client.post(
        reverse("flows:flow-template-status", kwargs={"pk": version.template_id}), {"move": "pause"}
    )
    assert page.status_code == 302
    assert FlowTemplate.objects.get(pk=version.template_id).status == "paused"


def test_export_and_import_through_screen_and_api(city, people, api):
    version = _published(people.dispatcher)
    client = _client(people.dispatcher)
    exported = client.get(reverse("flows:flow-export", kwargs={"pk": version.pk}))
    assert "attachment" in exported["Content-Disposition"]
    data = json.loads(exported.content)
    data["template"]["code"] = "copied"
    upload = SimpleUploadedFile("flow.json", json.dumps(data).encode(), content_type="application/json")
    page = client.post(reverse("flows:import"), {"file": upload})
    assert page.status_code == 302
    copied = FlowVersion.objects.get(template__code="copied")
    assert definition.from_version(copied).as_json() == definition.from_version(version).as_json()

    page = client.post(reverse("flows:import"), {"file": SimpleUploadedFile("x.json", b"{not json")})
    assert page.status_code == 400 and "不是有效的 JSON" in page.content.decode()

    as_user(api, people.dispatcher)
    answer = api.get(reverse("api-flow-version", kwargs={"pk": version.pk}))
    assert answer.status_code == 200 and answer.json()["format"] == "hotline-flow/1"
    body = answer.json() | {"template": answer.json()["template"] | {"code": "via-api"}}
    created = api.post(reverse("api-flow-import"), body, format="json")
    assert created.status_code == 201 and created.json()["status"] == "draft"
    refused = api.post(reverse("api-flow-import"), body | {"steps": [{"code": "a"}]}, format="json")
    assert refused.status_code == 400 and "definition" in json.dumps(refused.json())
    listing = api.get(reverse("api-flow-templates"))
    assert {t["code"] for t in listing.json()} == {"default", "copied", "via-api"}


def test_case_page_shows_the_position_to_whoever_sees_the_case(city, people, api):
    _published(people.dispatcher)
    case = submitted_case(city, people)
    page = _client(people.dispatcher).get(reverse("case-detail", kwargs={"pk": case.pk}))
    html = page.content.decode()
    assert 'data-testid="case-flow"' in html and "标准办理流程 第1版" in html
    assert 'class="flow-step current" data-step="dispatch"' in html

    from hotline.cases import services as case_services
    from hotline.cases.models import AssignmentRole

    case_services.case_dispatch(
        case=case,
        actor=people.dispatcher,
        expected_version=None,
        targets=[case_services.Target(city.east, AssignmentRole.MAIN)],
    )
    html = _client(people.east).get(reverse("case-detail", kwargs={"pk": case.pk})).content.decode()
    assert 'class="flow-step current" data-step="handling"' in html
    assert "查看模板" not in html  # a unit reads the position, not the template screens
    as_user(api, people.east)
    answer = api.get(reverse("api-case-flow", kwargs={"pk": case.pk})).json()
    assert answer["current"] == [{"code": "handling", "name": "单位办理"}] and answer["version"] == 1
    as_user(api, people.west)
    assert api.get(reverse("api-case-flow", kwargs={"pk": case.pk})).status_code == 404

    from hotline.flows.services import template_set_status

    for template in FlowTemplate.objects.all():
        template_set_status(actor=people.dispatcher, template=template, move="pause")
    later = submitted_case(city, people)
    as_user(api, people.dispatcher)
    assert api.get(reverse("api-case-flow", kwargs={"pk": later.pk})).json()["template"] is None
    assert (
        'data-testid="case-flow"'
        not in _client(people.dispatcher)
        .get(reverse("case-detail", kwargs={"pk": later.pk}))
        .content.decode()
    )


@pytest.mark.parametrize("hostile", ["<script>alert(1)</script>", '"><svg onload=alert(1)>'])
def test_svg_escapes_names(city, people, hostile):
    data = copy.deepcopy(default_flow_json())
    data["steps"][0]["name"] = hostile
    data["transitions"][0]["label"] = hostile
    version = services.template_import(actor=people.dispatcher, data=data)
    body = (
        _client(people.dispatcher)
        .get(reverse("flows:flow-version", kwargs={"pk": version.pk}))
        .content.decode()
    )
    assert hostile not in body and "&lt;" in body


class _FormValues(HTMLParser):
    """What a browser would post from the editor page as it was served (inputs and selected options)."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._first_option: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name") and a.get("type") != "checkbox":
            self.data.setdefault(a["name"], []).append(a.get("value") or "")
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self.data.setdefault(self._select, [])
            self._multiple = "multiple" in a
        elif tag == "option" and self._select:
            self._first_option.setdefault(self._select, a.get("value") or "")
            if "selected" in a:
                self.data[self._select].append(a.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            if not self.data[self._select] and not self._multiple:
                self.data[self._select] = [self._first_option.get(self._select, "")]
            self._select = None


def test_the_editor_page_posted_back_unchanged_saves(city, people):
    version = services.template_import(actor=people.dispatcher, data=default_flow_json())
    client = _client(people.dispatcher)
    url = reverse("flows:flow-edit", kwargs={"pk": version.pk})
    parser = _FormValues()
    parser.feed(client.get(url).content.decode())
    assert client.post(url, parser.data).status_code == 302  # the blank extra rows are not "changed"
    assert definition.from_version(version).as_json() == definition.from_json(default_flow_json()).as_json()
