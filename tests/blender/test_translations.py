"""Every text the add-on shows has a Simplified Chinese entry, with the same placeholders.

The ``bpy`` wheel is built without translation support (it lists no languages), so Blender cannot
be switched to Chinese here. Instead the test gathers what the add-on can show: the names and
descriptions of its registered classes and their properties (enum items too), the texts its
panels and preferences draw, and the messages in its source code (reports, errors, progress,
hints), and checks that the dictionary the add-on registers has an entry for each one. A string
added later without a translation fails the test, which names it and where it comes from.
"""

import ast
import re
from types import SimpleNamespace

import bpy
import pytest

from . import scenes
from .conftest import PACKAGE, REPO
from .test_panel import LayoutRecorder, draw

pytestmark = pytest.mark.blender

SOURCE = REPO / PACKAGE
# Functions whose returned strings are messages shown to the user.
MESSAGE_FUNCTIONS = {"why_offline", "why_not_cleared", "folder_problem", "describe", "failure"}
# Keywords and attributes that hold a message shown to the user.
MESSAGE_NAMES = {"message", "hint", "balance", "text", "placeholder"}
# The add-on's translation helpers: their first argument is a message.
TRANSLATING_CALLS = {"iface", "tip", "rpt"}
# Errors whose text is never shown (a download stopped on purpose, at shutdown).
SILENT_ERRORS = {"Cancelled"}
BRACES = re.compile(r"\{[^{}]*\}")
PRINTF = re.compile(r"%(?:\(\w+\))?[-#0 +]*\d*(?:\.\d+)?[sdifgGeExXrc%]")


@pytest.fixture
def translations(addon_module):
    return addon_module("blender.translations")


@pytest.fixture
def prefs(addon_module):
    """The add-on's preferences, put back as they were after the test."""
    prefs = addon_module("blender.preferences").get()
    saved = prefs.api_key, prefs.show_advanced
    yield prefs
    prefs.api_key, prefs.show_advanced = saved


@pytest.fixture
def table(translations):
    return translations.translations_dict()[translations.LOCALE]


def has_words(text: str) -> bool:
    """Whether a text has anything to translate outside its placeholders."""
    return any(character.isalpha() for character in BRACES.sub("", text))


# --- strings from the registered classes ------------------------------------------------------


def property_strings(rna, owner: str, found: dict, inherited=()):
    """Names, descriptions and enum items of the properties the add-on defines."""
    for prop in rna.properties:
        if prop.identifier in ("rna_type", "bl_idname") or prop.identifier in inherited:
            continue
        where = f"{owner}.{prop.identifier}"
        found.setdefault(("*", prop.name), f"{where} name")
        found.setdefault(("*", prop.description), f"{where} description")
        if prop.type == "ENUM":
            for item in prop.enum_items:
                found.setdefault(("*", item.name), f"{where} item {item.identifier} name")
                found.setdefault(("*", item.description), f"{where} item {item.identifier}")


def class_strings(classes) -> dict:
    """{(context, text): where} for every class the add-on registers."""
    found = {}
    for cls in classes:
        if issubclass(cls, bpy.types.Operator):
            module, _, name = cls.bl_idname.partition(".")
            rna = getattr(getattr(bpy.ops, module), name).get_rna_type()
            found.setdefault(("Operator", rna.name), f"{cls.__name__} name")
            found.setdefault(("*", rna.description), f"{cls.__name__} description")
            property_strings(rna, cls.__name__, found)
            continue
        # Panels, menus, property groups, preferences: their titles and their own properties.
        for attribute in ("bl_label", "bl_description", "bl_category"):
            text = getattr(cls, attribute, "")
            found.setdefault(("*", text), f"{cls.__name__}.{attribute}")
        base = next(base for base in cls.__mro__[1:] if hasattr(base, "bl_rna"))
        inherited = base.bl_rna.properties.keys()
        property_strings(cls.bl_rna, cls.__name__, found, inherited)
    return found


# --- strings from the source code -------------------------------------------------------------


def template(node: ast.JoinedStr) -> str:
    """An f-string as the table keys it: its values numbered in order, ``{0}``, ``{1}``..."""
    parts, count = [], 0
    for value in node.values:
        if isinstance(value, ast.Constant):
            parts.append(value.value)
        else:
            parts.append(f"{{{count}}}")
            count += 1
    return "".join(parts)


def message_texts(node):
    """The literal texts an expression can give: strings and f-strings, through ``a or b``,
    ``a if c else b`` and the translation helpers."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.JoinedStr):
        yield template(node)
    elif isinstance(node, ast.IfExp):
        yield from message_texts(node.body)
        yield from message_texts(node.orelse)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            yield from message_texts(value)
    elif isinstance(node, ast.Call) and call_name(node) in TRANSLATING_CALLS and node.args:
        yield from message_texts(node.args[0])


def call_name(node: ast.Call) -> str:
    function = node.func
    return function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")


def target_name(node) -> str:
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def messages_in(tree: ast.AST, error_names: set[str]):
    """(expression, line) for every place in a module that holds a message for the user."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = call_name(node)
            if name in TRANSLATING_CALLS | {"poll_message_set"} and node.args:
                yield node.args[0], node.lineno
            elif name in ("report", "_disabled") and len(node.args) == 2:
                yield node.args[1], node.lineno
            elif name in error_names and node.args:
                yield node.args[-1], node.lineno
            for keyword in node.keywords:
                if keyword.arg in MESSAGE_NAMES:
                    yield keyword.value, node.lineno
        elif isinstance(node, ast.Assign):
            if any(target_name(target) in MESSAGE_NAMES for target in node.targets):
                yield node.value, node.lineno
        elif isinstance(node, ast.FunctionDef) and node.name in MESSAGE_FUNCTIONS:
            for inner in ast.walk(node):
                if isinstance(inner, ast.Return) and inner.value is not None:
                    yield inner.value, inner.lineno


def source_strings(error_names: set[str]) -> dict:
    found = {}
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for expression, line in messages_in(tree, error_names):
            for text in message_texts(expression):
                where = f"{path.relative_to(REPO)}:{line}"
                found.setdefault(("*", text), where)
    return found


def error_names(addon_module) -> set[str]:
    """The error classes whose text reaches the user (as a report or a job's message)."""
    errors = addon_module("blender.errors")
    names, pending = set(), list(errors.USER_FACING_ERRORS)
    while pending:
        cls = pending.pop()
        names.add(cls.__name__)
        pending.extend(cls.__subclasses__())
    return names - SILENT_ERRORS


# --- strings the panels and preferences draw --------------------------------------------------


class _PreferencesSelf:
    """The ``self`` the preferences' draw uses: a recorded layout and the real settings."""

    def __init__(self, layout, prefs):
        object.__setattr__(self, "layout", layout)
        object.__setattr__(self, "prefs", prefs)

    def __getattr__(self, name):
        return getattr(self.prefs, name)


def drawn_strings(panel, preferences, prefs, monkeypatch) -> dict:
    """{(context, text): where} for the texts Blender translates itself (``translate`` not
    False), drawn in every state the panels have."""
    recorders = []
    monkeypatch.delenv("HYPER3D_API_KEY", raising=False)
    monkeypatch.setenv("RODIN_API_KEY", "key-from-the-environment")
    prefs.show_advanced, prefs.api_key = True, ""
    layout = LayoutRecorder()
    preferences.RodinTexturePreferences.draw(_PreferencesSelf(layout, prefs), bpy.context)
    recorders.append(("preferences", layout))
    monkeypatch.delenv("RODIN_API_KEY")
    for key, online in (("", True), ("test-key", False), ("test-key", True)):
        prefs.api_key = key
        bpy.context.preferences.system.use_online_access = online
        recorders.append(("main panel", draw(panel.RODIN_TEXTURE_PT_main)))
    recorders.append(("advanced panel", draw(panel.RODIN_TEXTURE_PT_advanced)))
    source = scenes.make_suzanne("Source", material=False)
    obj = scenes.make_suzanne("Textured", material=False)
    state = obj.rodin_texture
    state.job_id, state.task_uuid, state.submitted_seconds = "job", "task-123", "1700000000"
    state.message, state.hint = "Submitted", "Generate again"
    state.result_object = source
    scenes.select_only(obj, active=obj)
    for item in state.bl_rna.properties["status"].enum_items:
        state.status = item.identifier
        recorders.append((f"job panel ({item.identifier})", draw(panel.RODIN_TEXTURE_PT_job)))
    recorders.append(("main panel with a job", draw(panel.RODIN_TEXTURE_PT_main)))
    source.rodin_texture.source_object = obj
    scenes.select_only(source, active=source)
    recorders.append(("job panel (result)", draw(panel.RODIN_TEXTURE_PT_job)))
    found = {}
    for where, recorder in recorders:
        for name, _, kwargs in recorder.shown:
            if kwargs.get("translate", True) is False:
                continue
            context = "Operator" if name == "operator" else "*"
            for keyword in ("text", "placeholder"):
                found.setdefault((context, str(kwargs.get(keyword, ""))), f"{where}: {name}()")
    return found


# --- the tests --------------------------------------------------------------------------------


def test_every_shown_string_has_a_simplified_chinese_entry(
    addon_module, table, translations, prefs, monkeypatch
):
    registration = addon_module("blender.registration")
    phases = addon_module("jobs").Phase
    wanted = class_strings(registration.CLASSES)
    wanted.update(source_strings(error_names(addon_module)))
    wanted.update(
        drawn_strings(
            addon_module("blender.panel"), addon_module("blender.preferences"), prefs, monkeypatch
        )
    )
    wanted.update({("*", phase.value): "the job phases (describe)" for phase in phases})
    wanted = {key: where for key, where in wanted.items() if has_words(key[1])}

    missing = [
        f"{text!r} ({context}, {where})"
        for (context, text), where in wanted.items()
        if (context, text) not in table
    ]

    assert not missing, "no zh_HANS entry for:\n" + "\n".join(sorted(missing))
    assert len(wanted) > 100
    print(f"{len(translations.ZH_HANS)} strings translated, {len(wanted)} checked in place")


def test_translations_keep_the_placeholders_of_their_source(translations):
    changed = [
        f"{source!r} -> {text!r}"
        for source, text in translations.ZH_HANS.items()
        if sorted(BRACES.findall(source)) != sorted(BRACES.findall(text))
        or sorted(PRINTF.findall(source)) != sorted(PRINTF.findall(text))
    ]
    assert not changed, "placeholders differ:\n" + "\n".join(changed)
    assert all(text.strip() for text in translations.ZH_HANS.values())


@pytest.fixture
def zh(translations):
    """Translate as Blender would in Simplified Chinese (the wheel cannot switch language)."""
    chinese = translations.ZH_HANS
    return lambda text: translations.translate(text, lambda source: chinese.get(source, source))


def test_each_baked_maps_step_has_an_entry(addon_module, translations):
    """A bake's failure names its map's step; each is an entry of its own, since a value
    without a space (the map's name) is never translated."""
    maps = {baked for group in addon_module("blender.bake").MAPS.values() for baked in group}
    missing = [m.label for m in maps if f"baking the {m.label} map" not in translations.ZH_HANS]
    assert not missing


def test_the_history_states_have_entries(addon_module, translations):
    """Shown from a table of constants, which the source scan does not read."""
    texts = addon_module("blender.history").STATE_TEXTS.values()
    assert [text for text in texts if text not in translations.ZH_HANS] == []


def test_messages_with_values_translate_around_their_values(translations, zh):
    assert zh("Cube has no task to download") == "Cube 没有可下载的任务"
    assert zh("failed: seed: must be a whole number from 0 to 65535, not -1") == (
        "失败：seed: 必须是在 0 到 65535 之间的整数，而不是 -1"
    )
    assert zh("Balance: 12.5 credits") == "余额：12.5 积分"
    assert zh("Blender failed while baking the roughness map: out of memory") == (
        "Blender 在烘焙糙度贴图时出错：out of memory"
    )
    assert zh("INSUFFICIENT_FUND: not enough credits on the account") == (
        "INSUFFICIENT_FUND: not enough credits on the account"
    )
    english = "Cube has no task to download"
    assert translations.translate(english, lambda source: source) == english


class RecordingTranslations:
    """``bpy.app.translations`` as the add-on sees it, recording what it registers: Blender
    itself cannot be asked which tables are registered."""

    def __init__(self, real):
        self.real = real
        self.calls = []

    def register(self, name, table):
        self.calls.append(("register", name, table))
        self.real.register(name, table)

    def unregister(self, name):
        self.calls.append(("unregister", name))
        self.real.unregister(name)

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_the_table_is_registered_with_the_add_on_and_removed_with_it(
    addon, translations, monkeypatch
):
    recorder = RecordingTranslations(bpy.app.translations)
    monkeypatch.setattr(
        translations, "bpy", SimpleNamespace(app=SimpleNamespace(translations=recorder))
    )
    package = addon.__name__
    addon.unregister()
    try:
        assert recorder.calls == [("unregister", package)]
    finally:
        addon.register()
    assert recorder.calls[1:] == [("register", package, translations.translations_dict())]
    assert set(recorder.calls[1][2]) == {"zh_HANS"}


def test_each_template_is_found_again_from_the_message_it_makes(translations, zh):
    """No template hides another: each one, filled in, translates through its own entry."""
    placeholder = translations.PLACEHOLDER
    for source, text in translations.ZH_HANS.items():
        values = {name: f"v{index}" for index, name in enumerate(placeholder.findall(source))}
        if not values:
            continue

        def fill(template, values=values):
            return placeholder.sub(lambda found: values[found.group()], template)

        assert zh(fill(source)) == fill(text), source
