"""The parts of Blender's window the add-on draws in."""

import bpy


def redraw_sidebars():
    """Redraw the 3D viewports' sidebars, not the viewports: the add-on's state shows only in
    the sidebar, and a viewport's redraw costs a whole frame of the scene."""
    for window in bpy.context.window_manager.windows:
        for area in window.screen.areas:
            if area.type == "VIEW_3D":
                for region in area.regions:
                    if region.type == "UI":
                        region.tag_redraw()
