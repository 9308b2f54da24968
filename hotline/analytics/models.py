"""The analytics app's tables live in its subpackages; Django finds them here."""

from .facts.models import CaseFact, FactDay, FactState
from .kpi.models import Adjustment, AssessmentPeriod, ImprovementNote, Indicator, Scheme, Score
from .reports.models import SavedReport

__all__ = [
    "Adjustment",
    "AssessmentPeriod",
    "CaseFact",
    "FactDay",
    "FactState",
    "ImprovementNote",
    "Indicator",
    "SavedReport",
    "Scheme",
    "Score",
]
