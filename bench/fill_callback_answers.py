"""Fill the callback's two answers (responded, solution) on a database loaded before they existed (cases 0022),
set-based, with the shares `bench/load_cases.py` draws them with (`hotline.demo.catalog.CALLBACK_ANSWER_SHARES`,
by satisfied / dissatisfied rating), so that the response and solution rates have data to count.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/BENCH_DB python -m bench.fill_callback_answers

Only staff callbacks without answers are filled (a citizen's own rating, `actor_id IS NULL`, stays unasked). The
two draws are fixed functions of the callback's id (a multiplicative hash), so a rerun, or copies of a template
filled before `bench.scale_load`, give the same values. Then rebuild the unit facts (see bench/README.md).
"""

from __future__ import annotations

import time

from django.db import connection, transaction

import bench  # noqa: F401  (Django set up)
from hotline.cases.models import SATISFIED_RATINGS
from hotline.demo.catalog import CALLBACK_ANSWER_SHARES

MOD = 1_000_003


def _u(salt: int) -> str:
    """A uniform-looking number in [0, 1) from the row's id (integer arithmetic, the same on every database)."""
    return f"(((id * 2654435761 + {salt}) % {MOD}) * 1.0 / {MOD})"


def fill() -> int:
    satisfied = ", ".join(f"'{r}'" for r in sorted(SATISFIED_RATINGS))

    def by_rating(good: float, bad: float) -> str:
        return f"(CASE WHEN rating IN ({satisfied}) THEN {good} ELSE {bad} END)"

    (good_yes, (good_solved, good_partly)), (bad_yes, (bad_solved, bad_partly)) = (
        CALLBACK_ANSWER_SHARES[True],
        CALLBACK_ANSWER_SHARES[False],
    )
    solved = by_rating(good_solved, bad_solved)
    partly = by_rating(good_solved + good_partly, bad_solved + bad_partly)
    sql = f"""UPDATE cases_callback
                 SET responded = CASE WHEN {_u(17)} < {by_rating(good_yes, bad_yes)} THEN 'yes' ELSE 'no' END,
                     solution = CASE WHEN {_u(911)} < {solved} THEN 'solved'
                                     WHEN {_u(911)} < {partly} THEN 'partly' ELSE 'unsolved' END
               WHERE responded = '' AND solution = '' AND actor_id IS NOT NULL"""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
        return int(cursor.rowcount)


def main() -> None:
    started = time.perf_counter()
    n = fill()
    print(f"{n:,} callbacks filled in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
