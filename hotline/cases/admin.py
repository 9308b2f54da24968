# Django admin registrations of the cases package (autodiscovered).
from . import extfields_admin  # noqa: F401
