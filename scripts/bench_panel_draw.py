"""Main-thread time of drawing the Rodin tab, and the share of it spent translating messages.

    .venv/bin/python scripts/bench_panel_draw.py [--draws 2000]

The three panels (main, advanced, the job of the active object) draw into a layout that takes
every call and draws nothing, so what is timed is the add-on's own Python: the checks, the
texts and their translation. A failed job is drawn (a long message and a hint, both translated
by template) and one waiting in the queue. Three ways: with every message matched against the
translation table's templates at every draw (as before translations were kept), as shipped
(each finished translation kept for its language), and with the add-on's translation
functions replaced by ones that return their text (the floor a translation looked up at the
call site could at best reach). The bpy module has no locales: the matching is the same work
in every language, only Blender's final lookup differs.
"""

import argparse
import time

import bench_common as bench


class NullLayout:
    """Takes every layout call and attribute; draws nothing."""

    def __getattr__(self, name):
        return lambda *arguments, **keywords: self

    def __setattr__(self, name, value):
        pass


class PanelSelf:
    layout = NullLayout()


def draws_per_state(panels, draws: int) -> float:
    """Median microseconds of one draw of all three panels."""
    import bpy

    samples = []
    for _ in range(draws):
        start = time.perf_counter()
        for panel in panels:
            panel.draw(PanelSelf(), bpy.context)
        samples.append(time.perf_counter() - start)
    return bench.median(samples) * 1e6


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=2000)
    arguments = parser.parse_args(argv)
    addon = bench.blender_with_addon()

    panel, translations = addon("blender.panel"), addon("blender.translations")
    bench.addon_preferences().api_key = bench.API_KEY
    obj = bench.make_grid_object("Asset", 200)
    bench.select_only(obj)
    state = obj.rodin_texture
    state.job_id, state.task_uuid, state.submitted_seconds = "job", "task-123", "1700000000"
    panels = [getattr(panel, f"RODIN_TEXTURE_PT_{name}") for name in ("main", "advanced", "job")]
    states = {
        "failed": dict(
            status="failed",
            message="Not submitted: INSUFFICIENT_FUND: the account has 0.2 credits, 0.5 needed",
            hint="Top up the account at hyper3d.ai, then generate again",
        ),
        "waiting": dict(status="waiting", message="Waiting in the service's queue", hint=""),
    }
    identity = {name: getattr(translations, name) for name in ("iface", "tip", "rpt")}
    rows = []
    for state_name, values in states.items():
        for name, value in values.items():
            setattr(state, name, value)
        cached = translations._translated
        translations._translated = cached.__wrapped__  # every message matched at every draw
        row = [state_name, f"{draws_per_state(panels, arguments.draws):.0f}"]
        translations._translated = cached
        row.append(f"{draws_per_state(panels, arguments.draws):.0f}")
        for name in identity:
            setattr(translations, name, lambda text: text)
        row.append(f"{draws_per_state(panels, arguments.draws):.0f}")
        for name, function in identity.items():
            setattr(translations, name, function)
        rows.append(row)
    bench.print_table(
        f"One draw of the Rodin tab's three panels, median of {arguments.draws} (µs)",
        ["job", "matched each draw", "as shipped (kept)", "no translating"],
        rows,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
