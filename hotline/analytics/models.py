"""The analytics app's tables live in its subpackages; Django finds them here."""

from .reports.models import SavedReport

__all__ = ["SavedReport"]
