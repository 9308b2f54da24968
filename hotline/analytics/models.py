"""The analytics app's tables live in its subpackages; Django finds them here."""

from .facts.models import AreaFact, CaseFact, CaseMonthFact, FactDay, FactState, UnitFact, UnitFactDay
from .kpi.models import Adjustment, AssessmentPeriod, GroupScore, ImprovementNote, Indicator, Scheme, Score
from .reports.models import ReportSchedule, SavedReport, ScheduledDelivery

__all__ = [
    "Adjustment",
    "AssessmentPeriod",
    "AreaFact",
    "CaseFact",
    "CaseMonthFact",
    "FactDay",
    "FactState",
    "GroupScore",
    "ImprovementNote",
    "Indicator",
    "ReportSchedule",
    "SavedReport",
    "ScheduledDelivery",
    "Scheme",
    "Score",
    "UnitFact",
    "UnitFactDay",
]
