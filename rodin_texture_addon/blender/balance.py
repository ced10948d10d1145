"""The account's balance: asked for on a worker thread, drawn by the pump when it arrives."""

import contextlib
import threading

import bpy

from ..rodin.errors import RodinError
from . import preferences, pump, session, timers
from .errors import UserError


def fetch_balance_once(context) -> None:
    """The panel's first draw with online access and a key asks for the balance, once, on a
    worker thread (never on register or file load); a timer starts it, outside the draw."""
    if preferences.why_offline(context) or not session.first_time("balance"):
        return
    timers.run_on_main_thread(_fetch_balance_now)


@timers.timer
def _fetch_balance_now():
    with contextlib.suppress(UserError):  # out of reach since the draw: the panel says why
        refresh_balance(bpy.context)
    return None


def refresh_balance(context) -> threading.Thread:
    """Ask for the balance on a worker thread; the panel shows it when it arrives."""
    runtime = session.get()
    client = runtime.client(context)

    def fetch():
        try:
            runtime.balance = f"{client.balance():g} credits"
        except RodinError as error:
            runtime.balance = f"unavailable ({error})"

    thread = threading.Thread(target=fetch, name="rodin-balance", daemon=True)
    runtime.balance_fetch = thread
    thread.start()
    pump.ensure_pump()
    return thread


def balance_text() -> str:
    runtime = session.current()
    return runtime.balance if runtime is not None else ""
