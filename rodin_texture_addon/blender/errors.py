"""The add-on's errors meant for the user: operators report them instead of a traceback; and
how a result that could not be applied is told on its job."""

import traceback

from ..jobs import Phase
from ..rodin.errors import RodinError
from . import apply, export


class UserError(Exception):
    """A mistake the user can fix; its text is shown as it is."""


# Errors whose text is meant for the user: operators report them instead of a traceback.
USER_FACING_ERRORS = (UserError, RodinError, export.ExportError, apply.ApplyError)


def mark_not_applied(state, error: Exception) -> None:
    """Fail an object's job whose downloaded result could not be applied, saying why and what
    to do. An error not meant for the user is a bug: the console gets its traceback."""
    state.status = Phase.FAILED.value
    if isinstance(error, USER_FACING_ERRORS):
        state.message = f"Could not apply the result: {error}"
        if isinstance(error, apply.BrokenResult):
            state.hint = "The downloaded file is broken: press Download Again"
        else:
            state.hint = "The result is downloaded: fix the cause, then press Apply Result"
    else:
        traceback.print_exception(error)
        state.message = f"Could not apply the result: internal error: {error!r}"
        state.hint = "The result is downloaded: press Apply Result to try again"
