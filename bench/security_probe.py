"""Security probe (issue 10): the same four attacks as the city's review, against the demo city.

    nice -n 10 /work/main/.venv/bin/python bench/security_probe.py [--cases 120] [--fuzz-seconds 240]

It builds a fresh SQLite database with `seed_demo`, serves it from a threaded WSGI server in this process (every
answer counted), and runs:
  (a) a bounded schemathesis fuzz of every API operation against that server (token of a dispatcher);
  (b) cross-unit requests: handlers and leaders of ~10 units (every level) against every case, step and citizen
      of other units — 404 is due; anything else but 405 is a leak;
  (c) XSS payloads in every free-text field a citizen or a unit writes (case, caller, opinions, handling
      records, knowledge item), then the main pages: a payload coming back unescaped is a finding;
  (d) login brute force and password spraying with a rotating X-Forwarded-For, and the public case-status
      lookup guessed with a rotating X-Forwarded-For.
It prints each figure beside its target. Figures taken on the shared development machine are under load: the
counts matter, not the times.
"""

from __future__ import annotations

import argparse
import os
import re
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

XSS = [
    "<script>alert('x1')</script>",
    '"><img src=x onerror=alert("x2")>',
    "'><svg onload=alert('x3')>",
    "</textarea><script>alert('x4')</script>",
    '<iframe src="javascript:alert(`x5`)"></iframe>',
    "<a href=\"javascript:alert('x6')\">x6</a>",
    '" autofocus onfocus="alert(\'x7\')" x="',
    "</script><script>alert('x8')</script>",
    "<details open ontoggle=alert('x9')>",
    "<body onload=alert('x10')>",
    '<div class="modal-backdrop position-fixed top-0 start-0 w-100 h-100" style="z-index:9999">x11</div>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert('x12')>",
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=120, help="demo cases (default 120)")
    parser.add_argument("--units", type=int, default=10, help="unit users attacking (default 10)")
    parser.add_argument("--fuzz-seconds", type=int, default=240, help="schemathesis time budget")
    parser.add_argument("--fuzz-examples", type=int, default=5, help="schemathesis examples per operation")
    parser.add_argument("--skip-fuzz", action="store_true")
    parser.add_argument("--workdir", default="", help="keep the database here (default: a temporary folder)")
    parser.add_argument("--reuse", action="store_true", help="reuse the database left in --workdir")
    return parser.parse_args()


def setup_django(workdir: Path, *, reuse: bool) -> None:
    db = workdir / "probe.sqlite3"
    if db.exists() and not reuse:
        db.unlink()
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ["HOTLINE_VAR_DIR"] = str(workdir / "var")
    os.environ["HOTLINE_TEST_MEDIA_ROOT"] = str(workdir / "media")
    os.environ["HOTLINE_KB_INDEX_DIR"] = str(workdir / "kb-index")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    import django

    django.setup()
    from django.test.utils import setup_test_environment

    setup_test_environment()
    import logging

    for name in ("django.request", "axes", "axes.watch_login", "django.security"):
        logging.getLogger(name).setLevel(logging.CRITICAL)  # every refused probe would log a line


class Counted:
    """A WSGI app counting every answer by status."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.statuses: Counter[int] = Counter()
        self.errors: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        def start(status: str, headers: Any, exc_info: Any = None) -> Any:
            code = int(status.split()[0])
            with self.lock:
                self.statuses[code] += 1
                if code >= 500 and len(self.errors) < 50:
                    self.errors.append(f"{environ['REQUEST_METHOD']} {environ.get('PATH_INFO')} → {code}")
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


# --------------------------------------------------------------------------------------------- (a) API fuzz


def fuzz(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from django.core.wsgi import get_wsgi_application
    from rest_framework.authtoken.models import Token

    from hotline.orgs.models import Role, User

    dispatcher = User.objects.filter(roles__role=Role.DISPATCHER).first()
    token, _ = Token.objects.get_or_create(user=dispatcher)
    app = Counted(get_wsgi_application())
    server = make_server("127.0.0.1", 0, app, server_class=ThreadingServer, handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{url}/api/v1/schema/",
        "--header",
        f"Authorization: Token {token.key}",
        "--checks",
        "not_a_server_error,response_schema_conformance",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(args.fuzz_examples),
        "--max-time",
        str(args.fuzz_seconds),
        "--exclude-path-regex",
        "^/api/v1/auth/tokens/",
        "--workers",
        "1",
        "--seed",
        "10",
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--no-color",
        "--report-dir",
        str(workdir / "schemathesis"),
    ]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, timeout=args.fuzz_seconds + 300)
    server.shutdown()
    out = result.stdout + result.stderr
    (workdir / "schemathesis.txt").write_text(out)
    violations = len(re.findall(r"Response violates schema", out))
    return {
        "requests": sum(app.statuses.values()),
        "5xx": sum(n for code, n in app.statuses.items() if code >= 500),
        "schema violations": violations,
        "exit": result.returncode,
        "seconds": round(time.perf_counter() - started),
        "errors": app.errors[:10],
        "tail": out.strip().splitlines()[-6:],
    }


# --------------------------------------------------------------------------------------- (b) cross-unit


def attackers(count: int) -> list[Any]:
    """Handlers and leaders of units of every level, spread over the city."""
    from hotline.orgs.models import Role, UnitKind, User

    chosen: list[Any] = []
    per_kind = {UnitKind.DISTRICT: 2, UnitKind.BUREAU: 3, UnitKind.STREET: 2, UnitKind.COMMUNITY: 2}
    for kind, n in per_kind.items():
        users = (
            User.objects.filter(roles__role=Role.UNIT_HANDLER, unit__kind=kind, is_active=True)
            .select_related("unit")
            .order_by("unit__code")
        )
        picked = list(users[:: max(1, users.count() // n)][:n])
        chosen += picked
    leader = (
        User.objects.filter(roles__role=Role.UNIT_LEADER, unit__kind=UnitKind.DISTRICT)
        .select_related("unit")
        .order_by("-unit__code")
        .first()
    )
    if leader:
        chosen.append(leader)
    return chosen[:count]


def sees(user: Any, unit_ids: set[int], paths: dict[int, str]) -> bool:
    from hotline.orgs.models import Role

    if user.unit_id is None:
        return False
    if user.has_role(Role.UNIT_LEADER, Role.LEADER):
        return any(paths[u].startswith(user.unit.path) for u in unit_ids)
    return user.unit_id in unit_ids


def cross_unit(args: argparse.Namespace) -> dict[str, Any]:
    from django.test import Client

    from hotline.cases.models import Assignment, Case
    from hotline.orgs.models import Unit

    paths = dict(Unit.objects.values_list("id", "path"))
    involved: dict[int, set[int]] = {}
    for case_id, unit_id in Assignment.objects.values_list("case_id", "unit_id"):
        involved.setdefault(case_id, set()).add(unit_id)
    cases = list(Case.objects.values_list("id", "version", "citizen_id"))
    steps = list(Assignment.objects.values_list("id", "case_id"))
    statuses: Counter[int] = Counter()
    leaks: list[tuple[str, str, str, int]] = []
    tried = 0
    users = attackers(args.units)
    for user in users:
        client = Client(raise_request_exception=False)
        client.force_login(user)
        visible_cases = {c for c, units in involved.items() if sees(user, units, paths)}
        visible_citizens = {cit for c, _v, cit in cases if c in visible_cases and cit}
        requests: list[tuple[str, str, dict[str, Any] | None]] = []
        for case_id, version, citizen_id in cases:
            if case_id in visible_cases:
                continue
            body = {"version": version, "opinion": "越权", "message": "越权", "reason": "越权"}
            requests += [
                ("get", f"/api/v1/cases/{case_id}/", None),
                ("get", f"/api/v1/cases/{case_id}/timeline/", None),
                ("get", f"/cases/{case_id}/", None),
                ("get", f"/cases/{case_id}/print/", None),
                ("post", f"/api/v1/cases/{case_id}/urge/", body),
                ("post", f"/api/v1/cases/{case_id}/reveal-phone/", {}),
                ("post", f"/cases/{case_id}/act/close-marks/", body),
            ]
            if citizen_id and citizen_id not in visible_citizens:
                requests += [
                    ("get", f"/api/v1/citizens/{citizen_id}/", None),
                    ("get", f"/api/v1/citizens/{citizen_id}/history/", None),
                    ("get", f"/citizens/{citizen_id}/", None),
                ]
        for step_id, case_id in steps:
            if case_id in visible_cases:
                continue
            requests += [
                ("post", f"/api/v1/assignments/{step_id}/sign-for/", {"version": 1}),
                ("post", f"/api/v1/assignments/{step_id}/report/", {"version": 1, "result": "越权"}),
            ]
        for method, path, body in requests:
            if method == "get":
                response = client.get(path)
            elif path.startswith("/api/"):
                response = client.post(path, body or {}, content_type="application/json")
            else:
                response = client.post(path, body or {})
            tried += 1
            statuses[response.status_code] += 1
            if response.status_code not in (404, 405):
                leaks.append((user.username, method, path, response.status_code))
    return {
        "users": [f"{u.username}({u.unit.kind})" for u in users],
        "requests": tried,
        "5xx": sum(n for code, n in statuses.items() if code >= 500),
        "leaks": len(leaks),
        "examples": leaks[:10],
        "statuses": dict(statuses),
    }


# ---------------------------------------------------------------------------------------------- (c) XSS


class _LiveMarkup(HTMLParser):
    """Finds a payload that became markup: a handler attribute or a javascript: URL carrying a probe marker, a
    script whose text carries one, a page-covering element, or an element only a payload brings."""

    MARKER = re.compile(r"alert\(\W?x\d+")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            value = value or ""
            if name.startswith("on") and self.MARKER.search(value):
                self.found.append(f"<{tag} {name}=…>")
            if name in ("href", "src") and value.strip().lower().startswith("javascript:") and "x" in value:
                self.found.append(f"<{tag} {name}=javascript:…>")
        if tag == "mglyph":  # only a payload brings it (the templates use <details> and <svg> themselves)
            self.found.append(f"<{tag}>")
        values = {name: value or "" for name, value in attrs}
        if "z-index:9999" in values.get("style", "").replace(" ", "") or (
            "modal-backdrop" in values.get("class", "") and "start-0" in values.get("class", "")
        ):
            self.found.append("page-covering element kept (payload x11)")
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and self.MARKER.search(data):
            self.found.append("<script> with a probe marker")


def live_markup(html: str) -> list[str]:
    parser = _LiveMarkup()
    parser.feed(html)
    return parser.found


def xss() -> dict[str, Any]:
    from django.test import Client

    from hotline.cases import services
    from hotline.cases.models import Assignment, AssignmentRole
    from hotline.common.errors import ServiceError
    from hotline.common.models import DictItem, DictKind
    from hotline.knowledge import services as kb
    from hotline.knowledge.models import Directory
    from hotline.orgs.models import Role, Unit, UnitKind, User

    def item(kind: str) -> Any:
        return DictItem.objects.filter(kind=kind, is_active=True).order_by("sort_order", "id").first()

    agent = User.objects.filter(roles__role=Role.AGENT).first()
    dispatcher = User.objects.filter(roles__role=Role.DISPATCHER).first()
    leader = User.objects.filter(roles__role=Role.LEADER).first() or dispatcher
    district = Unit.objects.filter(kind=UnitKind.DISTRICT).order_by("code").first()
    handler = User.objects.filter(roles__role=Role.UNIT_HANDLER, unit=district).first()
    community = Unit.objects.filter(kind=UnitKind.COMMUNITY, path__startswith=district.path).first()
    case_ids = []
    refused: dict[str, Any] = {}
    for i, payload in enumerate(XSS):
        fields: dict[str, Any] = {
            "content": f"噪音扰民问题反映{payload}，请尽快处理，谢谢。",
            "title": f"标题{payload}"[:100],
            "citizen_name": f"王{payload}"[:50],
            "citizen_address": f"地址{payload}"[:200],
            "location": f"地点{payload}"[:200],
        }
        benign = {
            "content": "噪音扰民问题反映，晚上十点以后仍然很吵，请尽快处理，谢谢。",
            "citizen_name": "王女士",
            "title": "",
            "citizen_address": "",
            "location": "幸福路12号",
        }
        for _attempt in range(3):
            data = services.CaseInput(
                case_type=item(DictKind.CASE_TYPE),
                citizen_phone=f"1390000{i:04d}",
                location_unit=community,
                nature=item(DictKind.NATURE),
                urgency=item(DictKind.URGENCY),
                **fields,
            )
            try:
                case = services.case_intake(actor=agent, data=data).case
                break
            except ServiceError as exc:  # a field that refuses the payload is fine: write the others
                refused.update(exc.field_errors or {})
                fields.update({k: benign.get(k, "") for k in (exc.field_errors or {}) if k in fields})
        else:
            continue
        case = services.case_dispatch(
            case=case,
            actor=dispatcher,
            expected_version=case.version,
            targets=[services.Target(district, AssignmentRole.MAIN)],
            opinion=f"派单{payload}",
        )
        step = Assignment.objects.filter(case=case, unit=district).latest("id")
        services.assignment_sign_for(assignment=step, actor=handler, expected_version=None)
        services.assignment_record_handling(
            assignment=step,
            actor=handler,
            expected_version=None,
            result=f"处理结果{payload}",
            cause=f"原因{payload}",
            solution=f"措施{payload}",
        )
        case_ids.append(case.pk)
    directory = Directory.objects.filter(parent__isnull=True).first()
    kb_admin = (
        User.objects.filter(is_superuser=True).first() or User.objects.filter(roles__role=Role.ADMIN).first()
    )
    kb_ids = []
    if directory is not None and kb_admin is not None:
        for payload in XSS:
            try:
                it = kb.item_create(
                    actor=kb_admin,
                    directory=directory,
                    data=kb.ItemInput(
                        title=f"知识{payload}"[:200], content=f"<p>正文{payload}</p>", is_public=True
                    ),
                )
            except ServiceError as exc:
                refused.update({f"kb.{k}": v for k, v in (exc.field_errors or {}).items()})
                continue
            kb_ids.append(it.pk)
    pages: list[tuple[Any, str]] = []
    for pk in case_ids:
        pages += [(agent, f"/cases/{pk}/"), (handler, f"/cases/{pk}/"), (agent, f"/cases/{pk}/print/")]
    pages += [
        (agent, "/"),
        (dispatcher, "/"),
        (handler, "/"),
        (agent, "/cases/search/?q=噪音"),
        (leader, "/supervision/"),
        (dispatcher, "/cases/clusters/"),
        (agent, "/citizens/"),
    ]
    for pk in kb_ids:
        pages += [(agent, f"/kb/items/{pk}/"), (None, f"/portal/kb/items/{pk}/")]
    pages += [(agent, "/kb/?q=知识"), (None, "/portal/kb/?q=知识")]
    findings: list[tuple[str, str]] = []
    statuses: Counter[int] = Counter()
    clients: dict[Any, Any] = {}
    for user, path in pages:
        client = clients.get(user)
        if client is None:
            client = clients[user] = Client(raise_request_exception=False)
            if user is not None:
                client.force_login(user)
        response = client.get(path)
        statuses[response.status_code] += 1
        html = response.content.decode(errors="replace")
        findings += [(path, what) for what in live_markup(html)]
    return {
        "payloads": len(XSS),
        "cases written": len(case_ids),
        "fields refusing a payload": sorted(refused),
        "kb items written": len(kb_ids),
        "page views": len(pages),
        "5xx": sum(n for code, n in statuses.items() if code >= 500),
        "statuses": dict(statuses),
        "unescaped": len(findings),
        "examples": findings[:10],
    }


# ---------------------------------------------------------------------------------------- (d) login abuse


def login_abuse() -> dict[str, Any]:
    from django.test import Client

    from hotline.demo.generator import demo_password
    from hotline.orgs.models import Role, User

    victim = User.objects.filter(roles__role=Role.AGENT).order_by("username").first()

    password = demo_password()
    results: dict[str, Any] = {}
    # Brute force one account, the client rotating X-Forwarded-For on every try.
    client = Client(REMOTE_ADDR="198.51.100.7", raise_request_exception=False)
    for i in range(30):
        client.post(
            "/api/v1/auth/token/",
            {"username": victim.username, "password": f"guess{i}"},
            HTTP_X_FORWARDED_FOR=f"203.0.113.{i}",
        )
    right = client.post(
        "/api/v1/auth/token/",
        {"username": victim.username, "password": password},
        HTTP_X_FORWARDED_FOR="203.0.113.250",
    )
    results["brute force: 30 wrong passwords (rotating XFF), then the right one accepted (target 0)"] = int(
        right.status_code == 200
    )
    # Spraying: one wrong password over many users from one address.
    sprayer = Client(REMOTE_ADDR="198.51.100.8", raise_request_exception=False)
    users = list(User.objects.filter(is_active=True).order_by("id").values_list("username", flat=True)[:40])
    for i, name in enumerate(users):
        sprayer.post(
            "/login/", {"username": name, "password": "Spring2026!"}, HTTP_X_FORWARDED_FOR=f"192.0.2.{i}"
        )
    other = User.objects.filter(roles__role=Role.AGENT).order_by("-username").first()
    after = sprayer.post(
        "/login/", {"username": other.username, "password": password}, HTTP_X_FORWARDED_FOR="192.0.2.250"
    )
    results[f"spraying: {len(users)} users, then a right password from that address accepted (target 0)"] = (
        int(after.status_code == 302)
    )
    # The public case-status lookup, guessed with rotating X-Forwarded-For.
    from hotline.cases.models import Case

    number = Case.objects.exclude(query_password="").values_list("number", flat=True).first()
    guesser = Client(REMOTE_ADDR="198.51.100.9", raise_request_exception=False)
    allowed = 0
    for i in range(300):
        r = guesser.post(
            "/api/v1/public/case-status/",
            {"number": number, "password": f"{i:08d}"},
            content_type="application/json",
            HTTP_X_FORWARDED_FOR=f"198.18.{i // 250}.{i % 250}",
        )
        if r.status_code != 429:
            allowed += 1
    results["case-status lookup: guesses judged of 300 (target ≤ 20 per address)"] = allowed
    return results


def main() -> None:
    args = parse_args()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="hotline-probe-"))
    workdir.mkdir(parents=True, exist_ok=True)
    setup_django(workdir, reuse=args.reuse)
    from django.core.management import call_command

    from hotline.demo.generator import seed_demo

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    if not args.reuse:
        seed_demo(cases=args.cases, seed=20261207)
    print(
        f"demo city with {args.cases} cases ready in {time.perf_counter() - t0:.0f} s ({workdir})", flush=True
    )
    report: dict[str, Any] = {}
    if not args.skip_fuzz:
        report["(a) API fuzz"] = fuzz(args, workdir)
        print("(a)", report["(a) API fuzz"], flush=True)
    report["(b) cross-unit"] = cross_unit(args)
    print("(b)", report["(b) cross-unit"], flush=True)
    report["(c) XSS"] = xss()
    print("(c)", report["(c) XSS"], flush=True)
    report["(d) login abuse"] = login_abuse()
    print("(d)", report["(d) login abuse"], flush=True)
    print("\n=== security probe (target beside each figure) ===")
    if "(a) API fuzz" in report:
        a = report["(a) API fuzz"]
        print(
            f"(a) API fuzz: {a['requests']} requests, 5xx {a['5xx']} (target 0), "
            f"schema violations {a['schema violations']} (target 0), schemathesis exit {a['exit']}"
        )
    b = report["(b) cross-unit"]
    print(
        f"(b) cross-unit: {len(b['users'])} unit users, {b['requests']} requests, 5xx {b['5xx']} (target 0), "
        f"leaks {b['leaks']} (target 0)"
    )
    c = report["(c) XSS"]
    print(
        f"(c) XSS: {c['payloads']} payloads, {c['page views']} page views, 5xx {c['5xx']} (target 0), "
        f"unescaped {c['unescaped']} (target 0)"
    )
    for key, value in report["(d) login abuse"].items():
        print(f"(d) {key}: {value}")
    uptime = Path("/proc/loadavg").read_text().split()[:3]
    print(f"load average at the end: {' '.join(uptime)}")


if __name__ == "__main__":
    main()
