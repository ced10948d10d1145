"""The sidebar panels draw every state without errors, on the running Blender's own UI API.

Headless Blender has no screen to draw on, so each panel draws into a recorder that checks
every layout call against ``bpy.types.UILayout``'s RNA definition (method and keyword names)
and keeps the texts and operators shown.
"""

import importlib
import json

import bpy
import pytest

from . import scenes

pytestmark = pytest.mark.blender

LAYOUT_FUNCTIONS = bpy.types.UILayout.bl_rna.functions
# Layout calls that return a sub-layout.
SUB_LAYOUTS = {"row", "column", "box", "split", "grid_flow", "column_flow"}


class LayoutRecorder:
    """Stands in for ``UILayout``: validates calls, records what would be shown."""

    def __init__(self, shown=None, parent=None):
        self.shown = [] if shown is None else shown
        self.parent = parent

    def __getattr__(self, name):
        if name not in LAYOUT_FUNCTIONS:
            raise AttributeError(f"UILayout has no {name}()")
        parameters = LAYOUT_FUNCTIONS[name].parameters.keys()

        def call(*args, **kwargs):
            unknown = set(kwargs) - set(parameters)
            assert not unknown, f"UILayout.{name}() takes no {unknown}"
            if name in ("prop", "panel_prop"):
                assert hasattr(args[0], args[1]), f"no property {args[1]!r}"
            if name == "operator":
                module, _, function = args[0].partition(".")
                getattr(getattr(bpy.ops, module), function).get_rna_type()
            self.shown.append((name, args, kwargs))
            if name == "operator" and not self.is_enabled():
                self.shown.append(("disabled", args, {}))
            if name in SUB_LAYOUTS:
                return LayoutRecorder(self.shown, parent=self)
            if name == "panel_prop":  # (header, body): no body while the section is closed
                is_open = getattr(args[0], args[1])
                body = LayoutRecorder(self.shown, parent=self) if is_open else None
                return LayoutRecorder(self.shown, parent=self), body
            return OperatorProperties()

        return call

    def __setattr__(self, name, value):
        if name not in ("shown", "parent"):
            assert name in bpy.types.UILayout.bl_rna.properties, f"UILayout has no .{name}"
        object.__setattr__(self, name, value)

    def is_enabled(self) -> bool:
        """Whether this layout and every layout it is in are enabled."""
        enabled = self.__dict__.get("enabled", True)
        return enabled and (self.parent is None or self.parent.is_enabled())

    def disabled_operators(self):
        return [args[0] for name, args, _ in self.shown if name == "disabled"]

    def texts(self):
        return [str(kwargs.get("text", "")) for _, _, kwargs in self.shown]

    def operators(self):
        return [args[0] for name, args, _ in self.shown if name == "operator"]


class OperatorProperties:
    """What ``layout.operator`` returns; the panels set nothing on it."""


class _PanelSelf:
    """The ``self`` a panel's draw uses: only its layout."""

    def __init__(self, layout):
        self.layout = layout


def draw(panel_class) -> LayoutRecorder:
    layout = LayoutRecorder()
    panel_class.draw(_PanelSelf(layout), bpy.context)
    return layout


@pytest.fixture
def panels(addon):
    return importlib.import_module(f"{addon.__name__}.blender.panel")


@pytest.fixture
def prefs(addon):
    prefs = bpy.context.preferences.addons[addon.__name__].preferences
    prefs.api_key = "test-key"
    yield prefs
    prefs.api_key = ""


def test_the_main_panel_shows_the_cost_of_the_selection(panels, prefs):
    meshes = [scenes.make_suzanne(f"M{i}", material=False) for i in range(3)]
    scenes.select_only(*meshes, active=meshes[0])
    shown = draw(panels.RODIN_TEXTURE_PT_main)
    assert "Generate Texture (1.5 credits)" in shown.texts()
    assert "rodin_texture.generate" in shown.operators()


def test_the_main_panel_says_why_it_cannot_run(panels, prefs, monkeypatch):
    for name in ("RODIN_API_KEY", "HYPER3D_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    prefs.api_key = ""
    shown = draw(panels.RODIN_TEXTURE_PT_main)
    assert any("No API key" in text for text in shown.texts())
    assert "rodin_texture.open_preferences" in shown.operators()
    prefs.api_key = "test-key"
    bpy.context.preferences.system.use_online_access = False
    shown = draw(panels.RODIN_TEXTURE_PT_main)
    assert any("Online access is off" in text for text in shown.texts())


@pytest.mark.parametrize(
    ("missing", "reason"), [("mesh", "Select a mesh"), ("image", "Pick a reference image")]
)
def test_generate_is_disabled_with_the_reason_without_a_mesh_or_an_image(
    missing, reason, panels, prefs
):
    obj = scenes.make_suzanne(material=False)
    scenes.select_only(obj, active=obj)
    image = bpy.data.images.new("Reference", 8, 8)
    bpy.context.scene.rodin_texture_settings.image = image
    shown = draw(panels.RODIN_TEXTURE_PT_main)
    assert "rodin_texture.generate" not in shown.disabled_operators()

    if missing == "mesh":
        scenes.select_only(active=None)
    else:
        bpy.context.scene.rodin_texture_settings.image = None
    shown = draw(panels.RODIN_TEXTURE_PT_main)

    assert "rodin_texture.generate" in shown.disabled_operators()
    assert any(reason in text for text in shown.texts())


def test_the_advanced_panel_shows_how_results_are_applied_and_big_meshes_sent(panels, prefs):
    settings = bpy.context.scene.rodin_texture_settings
    settings.apply_mode = "NEW_OBJECT"
    shown = draw(panels.RODIN_TEXTURE_PT_advanced)
    drawn = [args[1] for name, args, _ in shown.shown if name == "prop"]
    assert {"apply_mode", "use_proxy", "proxy_detail"} <= set(drawn)
    assert "bake_size" not in drawn
    settings.apply_mode = "ORIGINAL"
    shown = draw(panels.RODIN_TEXTURE_PT_advanced)
    drawn = [args[1] for name, args, _ in shown.shown if name == "prop"]
    assert {"bake_size", "bake_material", "unwrap_missing_uvs"} <= set(drawn)


def test_the_panel_says_before_generating_that_a_mesh_over_the_limit_goes_as_a_proxy(panels, prefs):
    dense = scenes.make_grid("Dense", subdivisions=480)
    small = scenes.make_suzanne(material=False)
    scenes.select_only(dense, small, active=small)
    settings = bpy.context.scene.rodin_texture_settings
    settings.image = bpy.data.images.new("Reference", 8, 8)
    settings.apply_mode = "ORIGINAL"

    texts = draw(panels.RODIN_TEXTURE_PT_main).texts()
    assert "Dense: 460 k triangles, sent as a 390 k triangle proxy" in texts
    assert "Its textures are baked back onto your mesh" in texts
    assert not any(small.name in text for text in texts), "a mesh under the limit is not named"

    settings.apply_mode, settings.proxy_detail = "NEW_OBJECT", 50
    texts = draw(panels.RODIN_TEXTURE_PT_main).texts()
    assert "Dense: 460 k triangles, sent as a 200 k triangle proxy" in texts
    assert "The result is the textured proxy, beside your mesh" in texts
    settings.apply_mode = "REPLACE"
    assert (
        "Replace Mesh cannot take a proxy: choose Apply to Original"
        in draw(panels.RODIN_TEXTURE_PT_main).texts()
    )
    settings.use_proxy = False
    texts = draw(panels.RODIN_TEXTURE_PT_main).texts()
    assert "Dense: 460 k triangles, over Rodin's 10 MB: turn on Upload Proxies" in texts
    settings.use_proxy, settings.proxy_detail, settings.apply_mode = True, 100, "NEW_OBJECT"


def test_the_panel_says_what_texture_together_costs_and_does(panels, prefs):
    meshes = [scenes.make_grid(f"Part{i}", subdivisions=340) for i in range(2)]  # 231 k tris
    meshes.append(scenes.make_suzanne("Small", material=False))
    scenes.select_only(*meshes, active=meshes[0])
    settings = bpy.context.scene.rodin_texture_settings
    settings.image = bpy.data.images.new("Reference", 8, 8)
    settings.apply_mode = "ORIGINAL"
    shown = draw(panels.RODIN_TEXTURE_PT_main)
    assert "Generate Texture (1.5 credits)" in shown.texts()
    assert not any("one task" in text for text in shown.texts())
    assert "together" in [args[1] for name, args, _ in shown.shown if name == "prop"]

    settings.together = True
    texts = draw(panels.RODIN_TEXTURE_PT_main).texts()
    assert "Generate Texture (0.5 credits)" in texts
    assert "3 meshes in one task: 0.5 credits, not 1.5" in texts
    assert "They share one texture's resolution" in texts
    assert "The result is baked onto each mesh's own UVs" in texts
    # Each part alone is under the limit; joined, they are over it.
    assert "Part0 + Part1 + Small: 470 k triangles, sent as a 390 k triangle proxy" in texts
    settings.apply_mode = "NEW_OBJECT"
    texts = draw(panels.RODIN_TEXTURE_PT_main).texts()
    assert "The result is cut into one new object over each mesh" in texts
    settings.variants = 2
    texts = draw(panels.RODIN_TEXTURE_PT_main).texts()
    assert any("set Variants to 1, or turn Texture Together off" in text for text in texts)
    settings.variants, settings.together = 1, False

    scenes.select_only(meshes[0], active=meshes[0])
    shown = draw(panels.RODIN_TEXTURE_PT_main)
    assert "together" not in [args[1] for name, args, _ in shown.shown if name == "prop"]


def test_generate_waits_while_the_selections_proxy_is_being_built(addon, panels, prefs):
    dense = scenes.make_grid("Dense", subdivisions=480)
    scenes.select_only(dense, active=dense)
    bpy.context.scene.rodin_texture_settings.image = bpy.data.images.new("Reference", 8, 8)
    checks = importlib.import_module(f"{addon.__name__}.blender.checks")
    checks.BUILDING_PROXIES.add(dense.as_pointer())
    try:
        shown = draw(panels.RODIN_TEXTURE_PT_main)
    finally:
        checks.BUILDING_PROXIES.clear()
    assert "rodin_texture.generate" in shown.disabled_operators()
    assert "Dense's upload proxy is being built: wait for its submit" in shown.texts()
    assert "rodin_texture.generate" not in draw(panels.RODIN_TEXTURE_PT_main).disabled_operators()


def test_the_job_panel_shows_the_proxy_that_was_sent(panels, prefs):
    obj = scenes.make_suzanne(material=False)
    scenes.select_only(obj, active=obj)
    state = obj.rodin_texture
    state.job_id, state.status, state.task_uuid = "job", "done", "task-123"
    state.proxy_json = json.dumps(
        {"triangles": 407_859, "source_triangles": 1_800_000, "mean_deviation": 1.5e-6,
         "worst_deviation": 0.00104}
    )  # fmt: skip
    texts = draw(panels.RODIN_TEXTURE_PT_job).texts()
    assert "Sent as a 410 k triangle proxy of 1.8 M" in texts
    assert "Deviation: 0.00015% mean, 0.10% worst" in texts
    state.proxy_json = ""
    assert not any("proxy" in text for text in draw(panels.RODIN_TEXTURE_PT_job).texts())


@pytest.mark.parametrize(
    "status", ["uploading", "waiting", "generating", "downloading", "done", "failed"]
)
def test_the_job_panel_shows_each_state(status, panels, prefs):
    obj = scenes.make_suzanne(material=False)
    scenes.select_only(obj, active=obj)
    state = obj.rodin_texture
    state.job_id, state.status, state.task_uuid = "job", status, "task-123"
    state.queue_length, state.progress, state.submitted_seconds = 3, 0.25, "1700000000"
    state.message = "the service reported the generation as Failed"
    state.hint = "Generate again"
    assert panels.RODIN_TEXTURE_PT_job.poll(bpy.context)

    shown = draw(panels.RODIN_TEXTURE_PT_job)

    texts = " | ".join(shown.texts())
    assert {"Task ID", "task-123"} <= set(shown.texts()) and "Elapsed" in texts
    expected = {
        "uploading": "Uploading | 25%",
        "waiting": "Waiting (queue 3)",
        "downloading": "Downloading | 25%",
        "failed": "Failed: the service reported",
        "generating": "Generating",
        "done": "Done",
    }[status]
    assert expected in texts
    if status == "failed":
        assert "Generate again" in texts
    assert {"rodin_texture.check_now", "rodin_texture.download"} <= set(shown.operators())


@pytest.mark.parametrize(("status", "message"), [("done", "Done"), ("uploading", "Uploading")])
def test_the_job_panel_says_a_stage_once(status, message, panels, prefs):
    obj = scenes.make_suzanne(material=False)
    scenes.select_only(obj, active=obj)
    state = obj.rodin_texture
    state.job_id, state.status, state.message = "job", status, message

    texts = [text.lower() for text in draw(panels.RODIN_TEXTURE_PT_job).texts() if text]

    assert texts.count(message.lower()) == 1, texts


def test_a_result_object_points_to_its_source(panels, prefs):
    source = scenes.make_suzanne(material=False)
    result = scenes.make_suzanne("Result", material=False)
    result.rodin_texture.source_object = source
    scenes.select_only(result, active=result)
    assert "Result of Suzanne" in draw(panels.RODIN_TEXTURE_PT_job).texts()


def test_the_job_panels_buttons_ask_without_starting_the_session(addon, panels, prefs):
    session = importlib.import_module(f"{addon.__name__}.blender.session")
    session.shutdown()
    obj = scenes.make_suzanne(material=False)
    scenes.select_only(obj, active=obj)
    state = obj.rodin_texture
    state.job_id, state.status, state.task_uuid = "job", "generating", "task-123"
    draw(panels.RODIN_TEXTURE_PT_job)

    for name in ("check_now", "download", "apply", "open_folder", "clear", "resume"):
        getattr(bpy.ops.rodin_texture, name).poll()  # as Blender asks when it draws a button

    assert session.current() is None, "asking started threads"


def test_drawing_the_panels_writes_nothing_on_objects(panels, prefs):
    """Blender refuses writes to objects while a panel draws (and would fail the draw)."""
    renamed = scenes.make_suzanne("Renamed", material=False)
    copy = scenes.make_suzanne("Copy", material=False)
    scenes.select_only(renamed, active=renamed)
    # As a file saved with a renamed object and a copy of it holds them.
    for obj, owner in ((renamed, "Old"), (copy, "Renamed")):
        state = obj.rodin_texture
        state.job_id, state.owner, state.status, state.task_uuid = "job", owner, "waiting", "t"

    draw(panels.RODIN_TEXTURE_PT_main)
    draw(panels.RODIN_TEXTURE_PT_job)

    assert (renamed.rodin_texture.owner, copy.rodin_texture.owner) == ("Old", "Renamed")
    assert copy.rodin_texture.job_id == "job"


def test_each_texture_setting_is_drawn_once_and_declared_as_its_table_says(addon, panels):
    """The table of texture settings makes the panel's properties (clamped to the range), the
    generate operator's (the range for the slider only: validation refuses what is past it)
    and what the panel draws."""
    table = importlib.import_module(f"{addon.__name__}.rodin.texture_settings")
    scene_properties = bpy.context.scene.rodin_texture_settings.bl_rna.properties
    operator_properties = bpy.ops.rodin_texture.generate.get_rna_type().properties
    for setting in table.TEXTURE_SETTINGS:
        for properties, clamped in ((scene_properties, True), (operator_properties, False)):
            prop = properties[setting.name]
            assert (prop.name, prop.description) == (setting.label, setting.tooltip)
            if setting.choices:
                assert [item.identifier for item in prop.enum_items] == [
                    member.value for member in setting.kind
                ]
                assert prop.default == setting.default.value
            elif setting.minimum is not None:
                assert prop.default == pytest.approx(setting.default)
                lowest = setting.minimum + (0.01 if setting.minimum_excluded else 0)
                assert prop.soft_min == pytest.approx(lowest)
                assert (prop.hard_min == pytest.approx(lowest)) is clamped
    drawn = [
        args[1]
        for panel in (panels.RODIN_TEXTURE_PT_main, panels.RODIN_TEXTURE_PT_advanced)
        for name, args, _ in draw(panel).shown
        if name == "prop" and args[1] in table.SETTING_NAMES
    ]
    assert sorted(drawn) == sorted(table.SETTING_NAMES)
