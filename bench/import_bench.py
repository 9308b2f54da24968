"""What a citizen-import request costs now, against what it cost when it parsed the file itself.

Builds a citizen xlsx of 50,000 rows (about the size of the security probe's 7.5 MB file) and measures:
  (a) the request's part: size and row checks before parsing (citizens.jobs.check_upload)   target < 0.5 s
  (b) the parse the request used to do and the background job now does (openpyxl, read-only)  no target; printed
Needs no database. Figures are printed next to their targets, never asserted.

    python -m bench.import_bench [--rows 50000]
"""

from __future__ import annotations

import argparse
import io
import os
import time

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from hotline.citizens import importexport, jobs
from hotline.common.errors import ServiceError


def build(rows: int) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("市民")
    sheet.append(importexport.CITIZEN_COLUMNS)
    for i in range(rows):
        sheet.append(
            [f"市民{i}", "男", f"139{i:08d}", f"u{i}@example.com", f"东湖区幸福社区{i % 90}栋{i % 30}号",
             "江城市某某有限公司", "430000", "", "普通", f"备注{i}" * 3]
        )  # fmt: skip
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000, help="data rows (50,000 is the limit; ~7.5 MB)")
    args = parser.parse_args()
    rows = args.rows
    content = build(rows)
    print(f"file: {len(content) / 1024 / 1024:.1f} MB, {rows:,} data rows; load: {os.getloadavg()[0]:.2f}")
    upload = SimpleUploadedFile("citizens.xlsx", content)
    started = time.process_time()
    try:
        expected = jobs.check_upload(upload=upload, kind="citizens")
        verdict = f"accepted ({expected:,} rows)"
    except ServiceError as exc:
        verdict = f"refused: {exc.message}"
    checked = time.process_time() - started
    print(f"(a) request: size + row check before parsing  {checked:.3f} s CPU  target < 0.5 s  → {verdict}")
    started = time.process_time()
    parsed = sum(1 for _ in importexport.read_rows(io.BytesIO(content), "citizens.xlsx"))
    print(
        f"(b) parsing it (now in the background job)   {time.process_time() - started:.1f} s CPU  {parsed:,} rows"
    )


if __name__ == "__main__":
    main()
