"""Every write on a case. One transaction per function; the timeline event and the audit row commit with it.

Each action bumps the case's `version` with a conditional UPDATE, so two people acting on the same case at
once cannot both succeed: the second gets a Conflict (HTTP 409) instead of silently overwriting.


Split by stage; this package re-exports every public name so callers keep `from hotline.cases import services`.
"""

from .channel import *  # noqa: F403
from .citizen import *  # noqa: F403
from .clock_events import *  # noqa: F403
from .closing import *  # noqa: F403
from .core import *  # noqa: F403
from .intake import *  # noqa: F403
from .notes import *  # noqa: F403
from .office import *  # noqa: F403
from .password_reset import *  # noqa: F403
from .units import *  # noqa: F403
