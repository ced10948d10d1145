"""The batch command's bookkeeping without Blender: scene files, the image mapping, the table."""

import json

import pytest

from rodin_texture_addon.jobs.batch import (
    BatchInputError,
    Outcome,
    ReferenceMap,
    Status,
    find_sources,
    summary_table,
)


def test_folders_are_searched_for_scene_files_each_found_once(tmp_path):
    for name in ("a.glb", "nested/b.FBX", "nested/c.obj", "d.blend", "notes.txt", "e.png"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    found = find_sources([tmp_path, tmp_path / "a.glb"])
    assert [path.relative_to(tmp_path.resolve()).as_posix() for path in found] == [
        "a.glb", "d.blend", "nested/b.FBX", "nested/c.obj"
    ]  # fmt: skip
    with pytest.raises(BatchInputError, match="not a scene file"):
        find_sources([tmp_path / "notes.txt"])
    with pytest.raises(BatchInputError, match="no such file"):
        find_sources([tmp_path / "missing.glb"])


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
    chair, table = tmp_path / "chair.glb", tmp_path / "table.glb"
    assert references.image_for(chair, "Seat").name == "exact.png"
    assert references.image_for(chair, "Leg").name == "file.png"
    assert references.image_for(table, "Leg").name == "object.png"
    assert references.image_for(table, "Top").name == "default.png"
    assert ReferenceMap.load(mapping, None).image_for(table, "Top") is None


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
