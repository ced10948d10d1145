"""Mirrored objects (a negative scale of their own or through a parent) get results that face
outwards, in every apply mode, in real Blender against the emulator."""

import math

import bpy
import pytest

from . import scenes
from .test_addon_flow import reference, rodin  # noqa: F401  (fixtures)

pytestmark = pytest.mark.blender


def add_mirrored_cube(mirrored_by):
    bpy.ops.mesh.primitive_cube_add(size=2.0, location=(2.0, -1.0, 0.5))
    cube = bpy.context.active_object
    cube.name = "Cube"
    if mirrored_by == "own scale":
        cube.scale = (-1.0, 1.5, 0.8)
    else:
        rig = scenes.link(bpy.data.objects.new("Rig", None))
        rig.scale, rig.rotation_euler = (1.0, -2.0, 1.0), (0.3, 0.0, math.pi / 5)
        cube.parent = rig
    bpy.context.view_layer.update()
    scenes.select_only(cube, active=cube)
    assert cube.matrix_world.determinant() < 0
    assert scenes.outward_faces(cube) == (6, 6, 6)
    return cube


@pytest.mark.parametrize("apply_mode", ["NEW_OBJECT", "REPLACE"])
@pytest.mark.parametrize("mirrored_by", ["own scale", "parent"])
def test_the_result_of_a_mirrored_object_faces_outwards(rodin, reference, mirrored_by, apply_mode):  # noqa: F811
    cube = add_mirrored_cube(mirrored_by)

    assert bpy.ops.rodin_texture.generate(apply_mode=apply_mode) == {"FINISHED"}

    state = cube.rodin_texture
    assert state.status == "done", state.message
    shown = state.result_object if apply_mode == "NEW_OBJECT" else cube
    assert shown is not None and len(shown.data.polygons) == 12  # the service sends triangles
    assert scenes.outward_faces(shown) == (12, 12, 12)
    scenes.assert_boxes_match(scenes.evaluated_world_box(shown), scenes.evaluated_world_box(cube))
