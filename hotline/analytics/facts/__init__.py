"""Daily facts: the intake measures pre-aggregated per local day, kept up to date after each change.

Why: at 10,000,000 cases a year's report or cross-tab over the case table costs seconds to tens of seconds; the
same figure summed from a day × dimensions table costs milliseconds (`bench/analytics_scale_bench.py`).

- `models`: `CaseFact` (one row per local day × scope × type × district × bureau × channel × status × urgency ×
  nature, with the count of cases and of those answered at intake), `FactDay` (a day whose rows must be
  recomputed) and `FactState` (built or not, when last brought up to date).
- `build`: recomputes whole days from the case tables (one INSERT … SELECT per day, the same SQL on SQLite and
  PostgreSQL); the `analytics-facts` job recomputes the days marked after each case event and today.
- `units`: `UnitFact`, the unit reports' measures (sign-for, completion, handling time, satisfaction, response and
  solution rates, re-dispatch rate, redo rate counted by distinct cases) per day of the row's own time and grouping unit, read by the cross-tab engine;
  unsettled sign-for clocks and today counted live.
- `read`: answers a grouped intake figure from the facts for the days before today and from the case table for
  today (so today's figures stay live); anything the facts cannot answer falls back to the direct queries.
"""
