"""The add-on's timers: functions run on Blender's main thread, registered once each, and all
stopped when the add-on is."""

import bpy

# Blender's timers fire only with an event loop; in background mode the headless loop
# (``pump.wait_for``) calls what a timer would.
TIMERS_FIRE = not bpy.app.background
_TIMERS = []  # every function the add-on may run as a timer


def timer(function):
    """Decorator: ``function`` may run as a timer, and ``stop_all`` unregisters it, whoever
    registered it."""
    _TIMERS.append(function)
    return function


def run_on_main_thread(function) -> None:
    """Register a timer for ``function`` unless one is registered (Blender keeps duplicates)."""
    if TIMERS_FIRE and not bpy.app.timers.is_registered(function):
        bpy.app.timers.register(function, first_interval=0.0, persistent=True)


def stop_all() -> None:
    for function in _TIMERS:
        while bpy.app.timers.is_registered(function):
            bpy.app.timers.unregister(function)
