"""`python manage.py seed_demo [--cases N] [--seed S]`: build the demo city 江城市 (idempotent)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hotline.demo.generator import DEFAULT_CASES, DEFAULT_SEED, LOGIN_URLS, SeedReport, seed_demo


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    cells = [[str(c) for c in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(_pad(c, w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


class Command(BaseCommand):
    help = "生成演示城市“江城市”：单位树、各角色账号，以及分布在各个状态的工单（已存在则不做任何修改）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--cases", type=int, default=DEFAULT_CASES, help=f"工单数量（默认 {DEFAULT_CASES}）"
        )
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help="随机数种子（默认固定，结果可重现）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        cases: int = options["cases"]
        if cases < 0:
            raise CommandError("工单数量不能为负数")
        report = seed_demo(cases=cases, seed=options["seed"], progress=self.stdout.write)
        if report.created:
            self.stdout.write(self.style.SUCCESS(f"演示城市已生成，用时 {report.seconds:.1f} 秒。"))
        else:
            self.stdout.write(self.style.WARNING("演示城市已存在（单位编码 OFFICE），未做任何修改。"))
        self._print_accounts(report)
        self._print_summary(report)

    def _write_lines(self, lines: list[str]) -> None:
        for line in lines:
            self.stdout.write(line)

    def _print_accounts(self, report: SeedReport) -> None:
        self.stdout.write("")
        self.stdout.write("登录地址：")
        for url in LOGIN_URLS:
            self.stdout.write(f"  {url}")
        self.stdout.write(f"所有演示账号的密码：{report.password}（可用环境变量 HOTLINE_DEMO_PASSWORD 修改）")
        self.stdout.write(
            "各单位账号命名规则：<单位编码>_handler（承办人）、<单位编码>_leader（单位领导），如 d01s01_handler。"
        )
        self.stdout.write("")
        self._write_lines(format_table(("账号", "角色", "单位", "说明"), report.accounts))

    def _print_summary(self, report: SeedReport) -> None:
        self.stdout.write("")
        units = "，".join(f"{label} {n}" for label, n in report.unit_counts.items())
        self.stdout.write(f"单位：{units}；账号 {report.user_count} 个。")
        rows: list[tuple[str, str, int]] = [(s, label, n) for s, label, n in report.status_counts if n]
        total = sum(n for _s, _l, n in report.status_counts)
        self.stdout.write("")
        self._write_lines(format_table(("状态", "名称", "工单数"), [*rows, ("", "合计", total)]))
        closed = [(k, label, n) for k, label, n in report.close_kind_counts if n]
        if closed:
            self.stdout.write("")
            self._write_lines(format_table(("办结方式", "名称", "工单数"), closed))
