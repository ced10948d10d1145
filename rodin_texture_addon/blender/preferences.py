"""Add-on preferences: the account, the service, where results go.

The key stays out of .blend files; Blender stores preferences in plain text in userpref.blend
when they are saved, so the environment variables are offered for those who prefer them.
"""

import os
from pathlib import Path

import bpy

from ..rodin import ClientSettings, api_key_problem, contract
from . import ADDON_PACKAGE
from .translations import iface

KEY_ENVIRONMENT_VARIABLES = ("RODIN_API_KEY", "HYPER3D_API_KEY")


class RodinTexturePreferences(bpy.types.AddonPreferences):
    bl_idname = ADDON_PACKAGE

    api_key: bpy.props.StringProperty(
        name="API Key",
        subtype="PASSWORD",
        description="Your Hyper3D Rodin API key. Empty: RODIN_API_KEY or HYPER3D_API_KEY",
    )
    base_url: bpy.props.StringProperty(
        name="Service URL",
        default=contract.DEFAULT_BASE_URL,
        description="The Rodin API's base address (change only for a local emulator or a proxy)",
    )
    results_folder: bpy.props.StringProperty(
        name="Results Folder",
        subtype="DIR_PATH",
        description="Where results are saved (a path starting with // is relative to the saved "
        ".blend). Empty: 'rodin_results' beside the saved .blend, else the add-on's own user "
        "folder",
        # Blender 4.5 and later warn about a // path unless the property says it takes one.
        options={"PATH_SUPPORTS_BLEND_RELATIVE"} if bpy.app.version >= (4, 5, 0) else set(),
    )
    auto_import: bpy.props.BoolProperty(
        name="Import Results Automatically",
        default=True,
        description="Apply each result in the scene as soon as it is downloaded",
    )
    ca_bundle: bpy.props.StringProperty(
        name="CA Bundle",
        subtype="FILE_PATH",
        description="A certificate bundle (.pem) for networks that inspect HTTPS (company proxies)",
    )
    proxy_url: bpy.props.StringProperty(
        name="Proxy",
        description="An HTTP(S) proxy, such as http://proxy:3128. Empty: the system's settings",
    )
    requests_per_minute: bpy.props.IntProperty(
        name="Requests per Minute",
        default=120,
        min=1,
        max=600,
        description="The account's API request limit; the add-on stays under it",
    )
    bake_on_cpu: bpy.props.BoolProperty(
        name="Bake on the CPU",
        description="Bake Apply to Original on the CPU even when Cycles' preferences name a GPU",
    )
    show_advanced: bpy.props.BoolProperty(name="Advanced")

    def draw(self, context):
        layout = self.layout
        row = layout.row()
        row.prop(self, "api_key")
        if not self.api_key and environment_api_key():
            layout.label(text="Using the key from the environment", icon="INFO")
        problem = key_problem(context)
        if api_key(context) and problem:  # an empty field says it all
            layout.label(text=iface(problem), translate=False, icon="ERROR")
        layout.prop(self, "results_folder")
        layout.prop(self, "auto_import")
        layout.prop(self, "show_advanced", icon="TRIA_DOWN" if self.show_advanced else "TRIA_RIGHT")
        if self.show_advanced:
            box = layout.box()
            box.prop(self, "base_url")
            box.prop(self, "ca_bundle")
            box.prop(self, "proxy_url")
            box.prop(self, "requests_per_minute")
            box.prop(self, "bake_on_cpu")


def get(context=None) -> RodinTexturePreferences:
    context = context or bpy.context
    return context.preferences.addons[ADDON_PACKAGE].preferences


def environment_api_key() -> str:
    return next(
        (os.environ[name] for name in KEY_ENVIRONMENT_VARIABLES if os.environ.get(name)), ""
    )


def api_key(context=None) -> str:
    return get(context).api_key.strip() or environment_api_key().strip()


def key_problem(context=None) -> str:
    """What is wrong with the key in use, said without showing it (empty: nothing)."""
    problem = api_key_problem(api_key(context))
    return f"{problem[0].upper()}{problem[1:]}" if problem else ""


def why_offline(context) -> str:
    """Why the service may not be reached now (empty: it may)."""
    if not bpy.app.online_access:
        return "Online access is off: allow it in Preferences > System > Network"
    if not api_key(context):
        return "No API key: set it in the add-on preferences (or RODIN_API_KEY)"
    return key_problem(context)


def client_settings(context=None) -> ClientSettings:
    prefs = get(context)
    return ClientSettings(
        api_key=api_key(context),
        base_url=prefs.base_url.strip() or contract.DEFAULT_BASE_URL,
        ca_bundle=bpy.path.abspath(prefs.ca_bundle) if prefs.ca_bundle else None,
        proxy_url=prefs.proxy_url.strip() or None,
    )


def results_folder(context=None) -> Path:
    """The configured folder, else beside the saved .blend, else the add-on's user folder."""
    prefs = get(context)
    if prefs.results_folder:
        return Path(bpy.path.abspath(prefs.results_folder))
    if bpy.data.filepath:
        return Path(bpy.data.filepath).parent / "rodin_results"
    return Path(bpy.utils.extension_path_user(ADDON_PACKAGE, path="results", create=True))


def user_folder(name: str) -> Path:
    return Path(bpy.utils.extension_path_user(ADDON_PACKAGE, path=name, create=True))


CLASSES = (RodinTexturePreferences,)
