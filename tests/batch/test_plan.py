"""The batch command's bookkeeping without Blender: scene files, the image mapping, the table."""

import json
from pathlib import PurePosixPath

import pytest

from rodin_texture_addon.batch.plan import (
    BatchInputError,
    Outcome,
    ReferenceMap,
    Status,
    file_names,
    find_sources,
    summary_table,
    task_keys,
)


def test_folders_are_searched_for_scene_files_each_found_once(tmp_path):
    for name in ("a.glb", "nested/b.FBX", "nested/c.obj", "d.blend", "notes.txt", "e.png"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    found = find_sources([tmp_path, tmp_path / "a.glb"])
    assert [path.relative_to(tmp_path.resolve()).as_posix() for path in found] == [
        "a.glb", "d.blend", "nested/b.FBX", "nested/c.obj"
    ]  # fmt: skip
    assert [str(name) for name in found.values()] == [
        "a.glb", "d.blend", "nested/b.FBX", "nested/c.obj"
    ]  # fmt: skip
    with pytest.raises(BatchInputError, match="not a scene file"):
        find_sources([tmp_path / "notes.txt"])
    with pytest.raises(BatchInputError, match="no such file"):
        find_sources([tmp_path / "missing.glb"])


def test_same_named_files_get_their_own_output_paths_which_survive_a_move(tmp_path):
    for name in ("x/a.glb", "y/a.glb", "y/a.obj"):
        (tmp_path / "in" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "in" / name).write_bytes(b"x")
    given = [tmp_path / "in" / "x" / "a.glb", tmp_path / "in" / "y"]
    names = [str(name) for name in find_sources(given).values()]
    assert names == ["x/a.glb", "y/a.glb", "y/a.obj"]
    (tmp_path / "in").rename(tmp_path / "moved")
    moved = [tmp_path / "moved" / "x" / "a.glb", tmp_path / "moved" / "y"]
    assert [str(name) for name in find_sources(moved).values()] == names


def test_meshes_whose_names_make_the_same_file_name_get_distinct_ones():
    names = file_names(["Cube", "Cube-2", "a/b", "a\\b", "cube"], "mesh")
    assert names == {
        "Cube": "Cube",
        "Cube-2": "Cube-2",
        "a/b": "b",
        "a\\b": "b-2",
        "cube": "cube-3",
    }
    assert file_names(["..", "con"], "mesh") == {"..": "mesh", "con": "mesh-2"}


def test_the_journal_knows_a_mesh_by_what_it_sends_and_its_name_not_by_its_path():
    keys = task_keys(
        [("hash-1", "Cube"), ("hash-1", "Cube"), ("hash-1", "Seat"), ("hash-2", "Cube")]
    )
    assert len(set(keys)) == 4, "identical copies are told apart"
    assert task_keys([("hash-1", "Cube")]) == keys[:1], "the same mesh, the same name, every run"


@pytest.mark.parametrize("kind", ["json", "csv"])
def test_the_mapping_matches_the_most_specific_name_first(tmp_path, kind):
    for name in ("default.png", "file.png", "object.png", "exact.png"):
        (tmp_path / name).write_bytes(b"x")
    pairs = {"chair.glb::Seat": "exact.png", "chair.glb": "file.png", "Leg": "object.png"}
    mapping = tmp_path / f"mapping.{kind}"
    if kind == "json":
        mapping.write_text(json.dumps(pairs))
    else:
        mapping.write_text("asset,image\n" + "".join(f"{k},{v}\n" for k, v in pairs.items()))
    references = ReferenceMap.load(mapping, tmp_path / "default.png")
    chair, table = PurePosixPath("chair.glb"), PurePosixPath("table.glb")
    assert references.image_for(chair, "Seat").name == "exact.png"
    assert references.image_for(chair, "Leg").name == "file.png"
    assert references.image_for(table, "Leg").name == "object.png"
    assert references.image_for(table, "Top").name == "default.png"
    assert ReferenceMap.load(mapping, None).image_for(table, "Top") is None
    props = PurePosixPath("props/chair.glb")
    assert references.image_for(props, "Seat").name == "exact.png", "the file's name also does"


def test_the_mapping_tells_same_named_files_apart_by_their_folders(tmp_path):
    for name in ("x.png", "y.png"):
        (tmp_path / name).write_bytes(b"x")
    mapping = tmp_path / "mapping.csv"
    mapping.write_text("x/a.glb::Cube,x.png\ny/a.glb,y.png\n")
    references = ReferenceMap.load(mapping, None)
    assert references.image_for(PurePosixPath("x/a.glb"), "Cube").name == "x.png"
    assert references.image_for(PurePosixPath("y/a.glb"), "Cube").name == "y.png"
    assert references.image_for(PurePosixPath("a.glb"), "Cube") is None


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("m.json", "[1, 2]", "expected an object"),
        ("m.json", "{", "not valid JSON"),
        ("m.csv", "a,b,c\n", "asset,image"),
        ("m.csv", "chair.glb,missing.png\n", "image not found: "),
    ],
)
def test_a_bad_mapping_is_refused_with_what_is_wrong(tmp_path, name, text, words):
    (tmp_path / name).write_text(text)
    with pytest.raises(BatchInputError, match=words):
        ReferenceMap.load(tmp_path / name, None)


def test_the_summary_lists_failures_first_then_the_counts():
    table = summary_table(
        [
            Outcome("a.glb::A", Status.DONE, "out/a/A.glb"),
            Outcome("b.glb::B", Status.FAILED, "INSUFFICIENT_FUND: no credits"),
            Outcome("c.glb::C", Status.SKIPPED, "already done in an earlier run"),
        ]
    )
    lines = table.splitlines()
    assert [line.split()[0] for line in lines[2:5]] == ["b.glb::B", "c.glb::C", "a.glb::A"]
    assert "failed   INSUFFICIENT_FUND: no credits" in lines[2]
    assert lines[-1] == "1 done, 1 failed, 1 skipped"
