"""Texture Together in real Blender against the emulator: several meshes sent as one model in
one task, its result going back onto each of them."""

import importlib
import json
import re
from pathlib import Path

import bpy
import numpy as np
import pytest
from gltf_validator import assert_valid
from mathutils import Matrix

from . import scenes
from .fidelity import channel_psnr, prepare_flat_renders
from .test_addon_flow import object_states, pump_until, rodin, uploads  # noqa: F401
from .test_bake import PSNR_THRESHOLD, mesh_state, reference, wavy_reference  # noqa: F401

pytestmark = pytest.mark.blender

NAMES = ("Bare", "Modified", "Child")


def three_meshes():
    """The issue's three: a mesh without UVs, one whose shape comes from modifiers, and one
    parented to a rotated, scaled empty and rotated itself; all selected."""
    bare = scenes.make_suzanne("Bare", location=(-5.0, 0.0, 0.0), subdivisions=0, material=False)
    while bare.data.uv_layers:
        bare.data.uv_layers.remove(bare.data.uv_layers[0])
    modified = scenes.make_suzanne("Modified", location=(0.0, 1.0, 0.5), material=False)
    modified.modifiers.new("Bevel", "BEVEL").width = 0.02  # after the Subdivision it has
    child = scenes.make_suzanne("Child", location=(4.0, -1.0, 0.0), rotation=(0.4, 0.1, 1.1),
                                material=False)  # fmt: skip
    holder = scenes.link(bpy.data.objects.new("Holder", None))
    holder.location, holder.rotation_euler, holder.scale = (1.0, 0.5, 0.2), (0, 0, 0.6), (1.2,) * 3
    child.parent = holder
    bpy.context.view_layer.update()
    objects = [bare, modified, child]
    scenes.select_only(*objects, active=modified)
    return objects


def evaluated_triangles(obj):
    evaluated = obj.evaluated_get(bpy.context.evaluated_depsgraph_get())
    mesh = evaluated.to_mesh()
    mesh.calc_loop_triangles()
    count = len(mesh.loop_triangles)
    evaluated.to_mesh_clear()
    return count


def uploaded_positions(emulator, task_uuid, folder):
    path = folder / "uploaded.glb"
    path.write_bytes(emulator.tasks[task_uuid].model_bytes)
    assert_valid(path)
    document, binary = scenes.read_glb(path)
    (mesh,) = document["meshes"]
    (primitive,) = mesh["primitives"]
    triangles = document["accessors"][primitive["indices"]]["count"] // 3
    positions = scenes.accessor_array(document, binary, primitive["attributes"]["POSITION"])
    return scenes.gltf_to_blender(positions), triangles


def test_three_meshes_one_task_each_baked(rodin, emulator, reference, tmp_path, uploads):  # noqa: F811
    objects = three_meshes()
    before = {obj.name: mesh_state(obj) for obj in objects}
    triangles = sum(evaluated_triangles(obj) for obj in objects)
    boxes = [scenes.evaluated_world_box(obj) for obj in objects]
    datablocks_before = scenes.datablocks()

    outcome = bpy.ops.rodin_texture.generate(
        together=True, apply_mode="ORIGINAL", bake_material="REPLACE", unwrap_missing_uvs=True
    )

    assert outcome == {"FINISHED"}
    assert emulator.submit_count == 1, "one task for the three meshes"
    states = [obj.rodin_texture for obj in objects]
    (task_uuid,) = {state.task_uuid for state in states}
    for obj, state in zip(objects, states, strict=True):
        assert state.status == "done", (obj.name, state.message)
        assert state.together["members"] == list(NAMES)
    positions, sent = uploaded_positions(emulator, task_uuid, tmp_path)
    assert sent == triangles, "every mesh's evaluated triangles are in the one upload"
    low, high = scenes.union_box(*boxes)
    assert np.allclose(positions.min(axis=0), low, atol=1e-4)
    assert np.allclose(positions.max(axis=0), high, atol=1e-4)
    for obj in objects:
        after = mesh_state(obj)
        if obj.name == "Bare":  # it had no UV map: unwrapping gave it one, nothing else
            assert [name for name, _ in after.pop("uv maps")] == ["UVMap"]
            after.pop("active uv map")
            before["Bare"].pop("uv maps"), before["Bare"].pop("active uv map")
        assert after == before[obj.name], f"{obj.name}'s mesh changed"
        (slot,) = obj.material_slots
        assert slot.material.name == f"{obj.name}_rodin"
    added = {kind: names - datablocks_before[kind] for kind, names in scenes.datablocks().items()}
    assert added["objects"] == added["meshes"] == set(), "nothing of the bakes is left behind"
    assert added["materials"] == {f"{name}_rodin" for name in NAMES}
    assert list(uploads.iterdir()) == [], "the upload is removed once submitted"
    history = [json.loads(line) for line in rodin.session.ledger().path.read_text().splitlines()]
    submitted = [record for record in history if record["event"] == "submitted"]
    assert [record["together"] for record in submitted] == [list(NAMES)]
    assert {record["applied_to"] for record in history if record["event"] == "applied"} == set(
        NAMES
    )

    # The same result, cut into one piece over each mesh: each baked mesh looks like its piece.
    assert bpy.ops.rodin_texture.apply(apply_mode="NEW_OBJECT") == {"FINISHED"}
    prepare_flat_renders()
    for obj in objects:
        piece = obj.rodin_texture.result_object
        assert piece.name == f"{obj.name}_rodin"
        assert piece.rodin_texture.source_object == obj
        scenes.assert_boxes_match(
            scenes.evaluated_world_box(piece), scenes.evaluated_world_box(obj), tolerance=0.02
        )
        (views,) = channel_psnr(piece, obj, tmp_path, ("Base Color",)).values()
        assert min(views) > PSNR_THRESHOLD, (obj.name, views)


def test_the_pieces_follow_meshes_moved_since_the_submit(rodin, emulator, reference):  # noqa: F811
    objects = three_meshes()
    boxes = {obj.name: scenes.evaluated_world_box(obj) for obj in objects}
    assert bpy.ops.rodin_texture.generate(together=True, apply_mode="NEW_OBJECT") == {"FINISHED"}
    results = [obj.rodin_texture.result_object for obj in objects]
    for obj, piece in zip(objects, results, strict=True):
        scenes.assert_boxes_match(
            scenes.evaluated_world_box(piece), boxes[obj.name], tolerance=0.02
        )
        faces = len(piece.data.polygons)
        assert 0.8 * evaluated_triangles(obj) <= faces <= 1.2 * evaluated_triangles(obj)
    bpy.data.batch_remove([*results, *(piece.data for piece in results)])

    moved = bpy.data.objects["Child"]
    moved.parent.matrix_world = Matrix.Translation((0.0, 3.0, 1.0)) @ moved.parent.matrix_world
    bpy.context.view_layer.update()
    assert bpy.ops.rodin_texture.apply(apply_mode="REPLACE") == {"FINISHED"}
    for obj in objects:  # each mesh has its piece of the result, where it is now
        assert obj.data.name == f"{obj.name}_rodin"
        low, high = scenes.evaluated_world_box(obj)
        if obj is moved:
            low, high = low - (0.0, 3.0, 1.0), high - (0.0, 3.0, 1.0)
        scenes.assert_boxes_match((low, high), boxes[obj.name], tolerance=0.02)


def test_resume_follows_the_shared_task_once(rodin, addon, emulator, reference, tmp_path):  # noqa: F811
    emulator.configure(waiting_seconds=60)
    objects = three_meshes()
    rodin.following.start_generation(
        bpy.context, objects, rodin.request_type(image_path=Path(reference.filepath),
                                                 model_path=Path()),
        seeds=[1, 2, 3], upload_choice=rodin.following.chosen_upload(bpy.context, together=True),
    )  # fmt: skip
    pump_until(rodin, lambda: objects[2].rodin_texture.task_uuid, "the task on each mesh")
    path = tmp_path / "together.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    schedule = rodin.session.get().manager.schedule
    rodin.session.shutdown()
    rodin.session.get().manager.schedule = schedule  # the new session polls as fast
    bpy.ops.wm.open_mainfile(filepath=str(path))
    # Opening the file resumed it: one job followed for the three, one result for each.
    states = [bpy.data.objects[name].rodin_texture for name in NAMES]
    assert list(rodin.session.get().followed) == [states[0].job_id]
    emulator.finish_generating()
    rodin.pump.wait_for([states[0].job_id])
    assert {state.status for state in states} == {"done"}
    assert emulator.submit_count == 1
    assert rodin.session.get().manager.running_count == 0
    assert len({state.job_id for state in states}) == 1


def test_clearing_one_mesh_keeps_the_task_for_the_others(rodin, emulator, reference, capfd):  # noqa: F811
    objects = three_meshes()
    assert bpy.ops.rodin_texture.generate(together=True, apply_mode="NEW_OBJECT") == {"FINISHED"}
    results = [obj.rodin_texture.result_object for obj in objects]
    bpy.data.batch_remove([*results, *(piece.data for piece in results)])
    scenes.select_only(objects[0], active=objects[0])
    assert bpy.ops.rodin_texture.clear() == {"FINISHED"}
    assert not objects[0].rodin_texture.task_uuid
    objects[2].name = "Kid"  # renamed since the submit: not found by its recorded name
    scenes.select_only(objects[1], active=objects[1])
    capfd.readouterr()
    assert bpy.ops.rodin_texture.apply(apply_mode="NEW_OBJECT") == {"FINISHED"}
    assert "Applied the result to Modified + Kid" in capfd.readouterr().out
    assert objects[0].rodin_texture.result_object is None
    assert [obj.rodin_texture.result_object.name for obj in objects[1:]] == [
        "Modified_rodin", "Kid_rodin"
    ]  # fmt: skip


def add_a_mesh_without_faces():
    empty = scenes.link(bpy.data.objects.new("Hollow", bpy.data.meshes.new("Hollow")))
    empty.select_set(True)


@pytest.mark.parametrize(
    "parameters, words, also",
    [
        ({"variants": 2}, "set Variants to 1", None),
        ({"apply_mode": "ORIGINAL"}, "Bare has no UV map", None),
        ({}, "Hollow has no faces", add_a_mesh_without_faces),  # one that cannot be sent
    ],
)
def test_together_mistakes_send_nothing(parameters, words, also, rodin, emulator, reference):  # noqa: F811
    three_meshes()
    if also is not None:
        also()
    before = object_states()
    with pytest.raises(RuntimeError, match=words):
        bpy.ops.rodin_texture.generate(together=True, **parameters)
    assert emulator.submit_count == 0
    assert object_states() == before


def test_meshes_over_the_limit_together_go_as_one_proxy(rodin, emulator, reference):  # noqa: F811
    parts = [scenes.make_grid(f"Part{i}", subdivisions=340) for i in range(2)]  # 231 k each
    parts[1].location = (3.0, 0.0, 0.0)
    scenes.select_only(*parts, active=parts[0])
    with pytest.raises(RuntimeError, match="Replace Mesh would put the proxy in place"):
        bpy.ops.rodin_texture.generate(together=True, apply_mode="REPLACE")
    assert emulator.submit_count == 0

    assert bpy.ops.rodin_texture.generate(together=True, apply_mode="NEW_OBJECT") == {"FINISHED"}
    (task,) = emulator.tasks.values()
    assert len(task.model_bytes) <= 10 * 1024 * 1024
    for part in parts:
        proxy = part.rodin_texture.proxy
        assert proxy["source_triangles"] == 2 * 2 * 340 * 340
        assert proxy["triangles"] < proxy["source_triangles"]
        piece = part.rodin_texture.result_object
        assert piece.name == f"{part.name}_rodin_proxy"
        scenes.assert_boxes_match(
            scenes.evaluated_world_box(piece), scenes.evaluated_world_box(part), tolerance=0.01
        )


def test_the_history_sends_a_together_task_back_to_its_meshes(rodin, emulator, reference):  # noqa: F811
    objects = three_meshes()
    assert bpy.ops.rodin_texture.generate(together=True, apply_mode="NEW_OBJECT") == {"FINISHED"}
    task_uuid = objects[0].rodin_texture.task_uuid
    for obj in objects:
        rodin.following.clear_job(obj)
    before = object_states()
    with pytest.raises(RuntimeError, match=re.escape("textured Bare + Modified + Child together")):
        bpy.ops.rodin_texture.history_apply(task_uuid=task_uuid)
    assert object_states() == before
    history = importlib.import_module(f"{rodin.session.__package__}.history")
    assert task_uuid not in [task.task_uuid for task in history.to_recover()]


def read(collection, attribute, width=1, dtype=np.float32):
    values = np.empty(len(collection) * width, dtype)
    collection.foreach_get(attribute, values)
    return values.reshape(-1, width) if width > 1 else values


def test_a_cut_piece_keeps_its_faces_corners_exactly(addon_module):
    """What ``apply_joined`` cuts: each piece has exactly its faces, with their UVs, material
    slots and (custom) normals, and the sharp edges between them."""
    apply = addon_module("blender.apply")
    whole = scenes.make_suzanne("Whole", location=(0, 0, 0), subdivisions=0)
    mesh = whole.data
    mesh.shade_smooth()  # corners share normal spaces, which sharp edges split
    mesh.materials.append(bpy.data.materials.new("Second"))
    indices = (np.arange(len(mesh.polygons)) % 2).astype(np.int32)
    mesh.polygons.foreach_set("material_index", indices)
    rng = np.random.default_rng(3)
    custom = rng.normal(size=(len(mesh.loops), 3)) + read(mesh.corner_normals, "vector", 3) * 3
    mesh.normals_split_custom_set((custom / np.linalg.norm(custom, axis=1)[:, None]).tolist())
    sharp = mesh.attributes.new("sharp_edge", "BOOLEAN", "EDGE")
    sharp.data.foreach_set("value", np.arange(len(mesh.edges)) % 3 == 0)
    mesh.update()
    centres = read(mesh.polygons, "center", 3)
    owners = (centres[:, 0] > 0).astype(np.int64)
    normals, uvs = read(mesh.corner_normals, "vector", 3), read(mesh.uv_layers[0].data, "uv", 2)
    starts = read(mesh.polygons, "loop_start", dtype=np.int64)

    pieces = apply._pieces(whole, owners, 2)

    for index, piece in enumerate(pieces):
        kept = np.flatnonzero(owners == index)
        got = piece.data
        assert len(got.polygons) == len(kept)
        np.testing.assert_allclose(read(got.polygons, "center", 3), centres[kept], atol=1e-6)
        corners = np.concatenate([np.arange(starts[f], starts[f] + mesh.polygons[f].loop_total)
                                  for f in kept])  # fmt: skip
        np.testing.assert_allclose(read(got.corner_normals, "vector", 3), normals[corners],
                                   atol=1e-4)  # fmt: skip
        np.testing.assert_allclose(read(got.uv_layers[0].data, "uv", 2), uvs[corners])
        assert (read(got.polygons, "material_index", dtype=np.int32) == indices[kept]).all()
        assert [m.name for m in got.materials] == [m.name for m in mesh.materials]
        assert piece.users_collection == whole.users_collection


def test_the_python_function_textures_meshes_together(rodin, addon, emulator, reference):  # noqa: F811
    api = importlib.import_module(f"{addon.__name__}.blender.api")
    objects = three_meshes()
    bpy.ops.object.select_all(action="DESELECT")  # it takes its objects, not the selection

    results = api.texture_objects(objects, reference.filepath, together=True,
                                  apply_mode="NEW_OBJECT")  # fmt: skip

    assert [result.name for result in results] == [f"{name}_rodin" for name in NAMES]
    assert emulator.submit_count == 1
    with pytest.raises(api.TextureError, match="together: must be True or False, not 'yes'"):
        api.texture_objects(objects, reference.filepath, together="yes")
    assert emulator.submit_count == 1
