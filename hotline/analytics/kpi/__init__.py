"""Assessment (KPI-1..3): schemes as data, graded scores per period and unit, superiors from their subordinates,
deductions and bonuses with evidence, improvement notes and replies, scores frozen on publication."""
