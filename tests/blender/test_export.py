"""Mesh → GLB for the upload, in real Blender: what the file holds, and what the scene keeps."""

import bmesh
import bpy
import numpy as np
import pytest
from gltf_validator import assert_valid

from . import scenes

pytestmark = pytest.mark.blender


@pytest.fixture
def export(addon_module):
    return addon_module("blender.export")


def positions(path):
    """The one mesh's positions in the GLB, in Blender's axes, and its primitive."""
    gltf, binary = scenes.read_glb(path)
    (mesh,) = gltf["meshes"]
    (primitive,) = mesh["primitives"]
    return scenes.gltf_to_blender(
        scenes.accessor_array(gltf, binary, primitive["attributes"]["POSITION"])
    )


def test_geometry_only(export, tmp_path):
    suzanne = scenes.make_suzanne()
    suzanne.data.color_attributes.new("Col", "BYTE_COLOR", "CORNER")
    suzanne.data.attributes.new("weight", "FLOAT", "POINT")
    suzanne["note"] = "private"
    suzanne.keyframe_insert("location", frame=1)
    camera = scenes.add_camera((0, -5, 0), (1.5, 0, 0))
    light = scenes.link(bpy.data.objects.new("Light", bpy.data.lights.new("Light", "POINT")))
    scenes.select_only(suzanne, camera, light, active=suzanne)

    model = export.export_geometry_glb(bpy.context, suzanne, tmp_path / "model.glb")

    assert_valid(model.path)
    gltf, binary = scenes.read_glb(model.path)
    (mesh,) = gltf["meshes"]
    (primitive,) = mesh["primitives"]
    assert set(primitive["attributes"]) == {"POSITION", "NORMAL"}
    assert "indices" in primitive and "material" not in primitive
    for absent in ("materials", "textures", "images", "samplers", "animations", "skins",
                   "cameras", "extensionsUsed", "extensionsRequired"):  # fmt: skip
        assert absent not in gltf, absent
    (node,) = gltf["nodes"]
    assert node["mesh"] == 0 and "extras" not in node and "extras" not in mesh
    indices = scenes.accessor_array(gltf, binary, primitive["indices"])
    assert model.triangle_count == len(indices) // 3 > 0
    assert model.size_bytes == model.path.stat().st_size
    evaluated = suzanne.evaluated_get(bpy.context.evaluated_depsgraph_get()).data
    assert model.vertex_count == len(evaluated.vertices)


def test_positions_are_the_evaluated_world_geometry(export, tmp_path):
    suzanne = scenes.make_suzanne(location=(4.0, -3.0, 2.0), rotation=(0.7, 0.2, -1.1))
    expected = scenes.evaluated_world_box(suzanne)

    model = export.export_geometry_glb(bpy.context, suzanne, tmp_path / "model.glb")

    gltf, _ = scenes.read_glb(model.path)
    (node,) = gltf["nodes"]
    assert not {"matrix", "translation", "rotation", "scale"} & set(node)
    points = positions(model.path)
    scenes.assert_boxes_match((points.min(axis=0), points.max(axis=0)), expected, 1e-6)
    scenes.assert_boxes_match((np.array(model.bbox_min), np.array(model.bbox_max)), expected, 1e-6)
    subdivided = suzanne.evaluated_get(bpy.context.evaluated_depsgraph_get()).data
    assert model.triangle_count == len(subdivided.polygons) * 2  # Subdivision makes quads


def test_mirrored_object_keeps_its_normals_outward(export, tmp_path):
    bpy.ops.mesh.primitive_uv_sphere_add()
    sphere = bpy.context.active_object
    sphere.scale = (-1.0, 1.0, 1.0)

    model = export.export_geometry_glb(bpy.context, sphere, tmp_path / "model.glb")

    gltf, binary = scenes.read_glb(model.path)
    (primitive,) = gltf["meshes"][0]["primitives"]
    points = scenes.accessor_array(gltf, binary, primitive["attributes"]["POSITION"])
    normals = scenes.accessor_array(gltf, binary, primitive["attributes"]["NORMAL"])
    assert np.all(np.einsum("ij,ij->i", points, normals) > 0)


def test_only_the_target_is_exported(export, tmp_path):
    target = scenes.make_suzanne("Target")
    others = [scenes.make_suzanne(f"Other {i}", location=(i * 5.0, 0, 0)) for i in (1, 2)]
    scenes.select_only(target, *others, active=others[0])

    model = export.export_geometry_glb(bpy.context, target, tmp_path / "model.glb")

    gltf, _ = scenes.read_glb(model.path)
    assert len(gltf["nodes"]) == len(gltf["meshes"]) == 1
    points = positions(model.path)
    scenes.assert_boxes_match(
        (points.min(axis=0), points.max(axis=0)), scenes.evaluated_world_box(target), 1e-6
    )


def test_scene_selection_and_active_object_are_restored(export, tmp_path):
    target = scenes.make_suzanne("Target")
    cube_mesh = bpy.data.meshes.new("Cube")
    cube = scenes.link(bpy.data.objects.new("Cube", cube_mesh))
    path = scenes.make_curve()
    scenes.select_only(cube, path, active=path)
    matrix, before = target.matrix_world.copy(), scenes.datablocks()

    export.export_geometry_glb(bpy.context, target, tmp_path / "model.glb")

    assert {o.name for o in bpy.context.selected_objects} == {"Cube", "Path"}
    assert bpy.context.view_layer.objects.active == path
    assert scenes.datablocks() == before
    assert target.matrix_world == matrix
    assert [m.type for m in target.modifiers] == ["SUBSURF"]
    assert len(target.data.materials) == 1


def test_edit_mode_edits_are_exported_and_edit_mode_kept(export, tmp_path):
    suzanne = scenes.make_suzanne(subdivisions=0)
    scenes.select_only(suzanne, active=suzanne)
    bpy.ops.object.mode_set(mode="EDIT")
    edit_mesh = bmesh.from_edit_mesh(suzanne.data)
    edit_mesh.verts.ensure_lookup_table()
    edit_mesh.verts[0].co = (0.0, 0.0, 10.0)  # far above the rest, in local space
    bmesh.update_edit_mesh(suzanne.data)
    before = scenes.datablocks()

    model = export.export_geometry_glb(bpy.context, suzanne, tmp_path / "model.glb")

    top = (suzanne.matrix_world @ suzanne.data.vertices[0].co).z  # synced by the export
    assert positions(model.path)[:, 2].max() == pytest.approx(top, rel=1e-6)
    assert top > 5
    assert suzanne.mode == "EDIT" and bpy.context.mode == "EDIT_MESH"
    assert bpy.context.view_layer.objects.active == suzanne
    assert suzanne.select_get()
    assert scenes.datablocks() == before
    bpy.ops.object.mode_set(mode="OBJECT")


def test_exports_without_a_window_as_from_a_timer(export, tmp_path):
    suzanne = scenes.make_suzanne()
    with bpy.context.temp_override(window=None):
        assert bpy.context.window is None
        model = export.export_geometry_glb(bpy.context, suzanne, tmp_path / "model.glb")
    assert model.triangle_count > 0


def test_a_failed_export_leaves_nothing_behind(export, tmp_path):
    suzanne = scenes.make_suzanne()
    scenes.select_only(suzanne, active=suzanne)
    blocker = tmp_path / "not a folder"
    blocker.write_text("")
    before = scenes.datablocks()

    with pytest.raises(export.ExportError, match="could not export Suzanne"):
        export.export_geometry_glb(bpy.context, suzanne, blocker / "model.glb")

    assert scenes.datablocks() == before
    assert bpy.context.selected_objects == [suzanne]
    assert bpy.context.view_layer.objects.active == suzanne


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: None, "no longer exists"),
        (scenes.make_curve, "Path is a curve, not a mesh"),
        (lambda: scenes.link(bpy.data.objects.new("Null", None)), "Null is an empty, not a mesh"),
        (
            lambda: scenes.link(bpy.data.objects.new("Title", bpy.data.curves.new("T", "FONT"))),
            "Title is a text object, not a mesh",
        ),
    ],
)
def test_refuses_what_is_not_a_mesh(export, tmp_path, build, message):
    obj = build()
    before = scenes.datablocks()
    with pytest.raises(export.ExportError, match=message):
        export.export_geometry_glb(bpy.context, obj, tmp_path / "model.glb")
    assert not (tmp_path / "model.glb").exists()
    assert scenes.datablocks() == before


def test_refuses_a_deleted_object(export, tmp_path):
    suzanne = scenes.make_suzanne()
    bpy.data.objects.remove(suzanne)
    with pytest.raises(export.ExportError, match="no longer exists"):
        export.export_geometry_glb(bpy.context, suzanne, tmp_path / "model.glb")


def test_refuses_a_mesh_without_faces_after_modifiers(export, tmp_path):
    grid = scenes.make_grid()
    grid.modifiers.new("Weld", "WELD").merge_threshold = 100.0  # everything into one vertex
    before = scenes.datablocks()

    with pytest.raises(export.ExportError, match="Grid has no faces after its modifiers"):
        export.export_geometry_glb(bpy.context, grid, tmp_path / "model.glb")

    assert not (tmp_path / "model.glb").exists()
    assert scenes.datablocks() == before


def test_refuses_a_mesh_over_the_size_limit(export, tmp_path):
    # About 48 bytes a vertex (position, normal, two triangles of indices): 480² ≈ 11 MB.
    grid = scenes.make_grid(subdivisions=480)
    before = scenes.datablocks()

    with pytest.raises(export.ExportError) as refusal:
        export.export_geometry_glb(bpy.context, grid, tmp_path / "model.glb")

    message = str(refusal.value)
    assert "Grid makes a 1" in message and "over Rodin's 10 MB limit" in message
    assert "Upload Proxies" in message and "Decimate" in message and "subdivision" in message
    assert float(message.split(" MB upload")[0].rsplit(" ", 1)[1]) > 10
    assert not (tmp_path / "model.glb").exists()
    assert scenes.datablocks() == before


def test_a_mesh_without_faces_or_modifiers_is_told_so(export, tmp_path):
    points = scenes.link(bpy.data.objects.new("Points", bpy.data.meshes.new("Points")))
    points.data.from_pydata([(0, 0, 0), (1, 0, 0)], [(0, 1)], [])

    with pytest.raises(export.ExportError) as refusal:
        export.export_geometry_glb(bpy.context, points, tmp_path / "model.glb")

    assert str(refusal.value) == "Points has no faces: Rodin textures surfaces, so give it faces"
