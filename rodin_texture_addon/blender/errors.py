"""The add-on's errors meant for the user: operators report them instead of a traceback."""

from ..rodin.errors import RodinError
from . import apply, export


class UserError(Exception):
    """A mistake the user can fix; its text is shown as it is."""


# Errors whose text is meant for the user: operators report them instead of a traceback.
USER_FACING_ERRORS = (UserError, RodinError, export.ExportError, apply.ApplyError)
