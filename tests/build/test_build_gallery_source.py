import unicodedata

from conftest import ASTRONAUT_FOLDER, EXPECTED

from idealtype.blobstore import LocalBlobStore
from idealtype.build.gallery_source import (
    list_gallery,
    read_celeb_info,
    select_subset,
    shard_of,
)


def test_listing_normalizes_names_and_sets_aside_stray_files(build_gallery):
    listing = list_gallery(LocalBlobStore(build_gallery))
    sources = [item.source for item in listing.items]
    assert sources == sorted(sources)
    expected_items = {s for s, outcome in EXPECTED.items()} - {"Broken/.DS_Store", "README.txt"}
    assert set(sources) == expected_items
    korean = [item for item in listing.items if item.celeb_id == ASTRONAUT_FOLDER]
    assert len(korean) == 4
    # the folder is NFD on disk: the key reads the file, the id/source are NFC
    assert all(unicodedata.is_normalized("NFC", item.source) for item in korean)
    assert all(not unicodedata.is_normalized("NFC", item.key) for item in korean)
    assert {(e["source"], e["reason"]) for e in listing.ignored} == {
        ("Broken/.DS_Store", "hidden_file"),
        ("README.txt", "not_in_celebrity_folder"),
    }


def test_celebs_csv_gives_names_and_tags(build_gallery):
    info, problems = read_celeb_info(LocalBlobStore(build_gallery))
    assert problems == []
    assert info[ASTRONAUT_FOLDER] == {
        "name": "Eileen Collins",
        "tags": {"gender": "female", "country": "US"},
    }


def test_celebs_csv_problems_are_reported_not_raised(tmp_path):
    store = LocalBlobStore(tmp_path)
    store.put("celebs.csv", "\ufefffolder,name,group\nA,Alpha,\n,Nobody,x\nA,Again,G\n".encode())
    info, problems = read_celeb_info(store)
    assert info == {"A": {"name": "Again", "tags": {"group": "G"}}}
    assert len(problems) == 2 and "line 3" in problems[0] and "line 4" in problems[1]
    store.put("celebs.csv", b"who,name\nA,Alpha\n")
    assert read_celeb_info(store)[0] == {}
    assert "no column" in read_celeb_info(store)[1][0]
    assert read_celeb_info(LocalBlobStore(tmp_path / "none")) == ({}, [])


def test_subset_is_deterministic(build_gallery):
    items = list_gallery(LocalBlobStore(build_gallery)).items
    two_each = select_subset(items, max_per_celeb=2)
    per_celeb = {}
    for item in two_each:
        per_celeb.setdefault(item.celeb_id, []).append(item.source)
    assert all(len(v) <= 2 for v in per_celeb.values())
    assert per_celeb["Grace_Hopper"] == sorted(s for s in EXPECTED if s.startswith("Grace"))[:2]
    assert select_subset(items, limit=5) == items[:5]
    one_each = select_subset(items, limit=3, max_per_celeb=1)
    assert [item.celeb_id for item in one_each] == sorted({i.celeb_id for i in items})[:3]


def test_shards_partition_the_photos_stably():
    names = [f"person{i}/photo{j}.jpg" for i in range(50) for j in range(4)]
    shards = [shard_of(name, 3) for name in names]
    assert set(shards) == {0, 1, 2}
    assert min(shards.count(s) for s in range(3)) > 40  # roughly balanced
    # pinned values: workers on other machines/Pythons must agree (so not the salted hash())
    assert shard_of("Grace_Hopper/original.jpg", 1000) == 936
    assert shard_of("우주비행사/astronaut.png", 1000) == 268
    assert [shard_of(name, 1) for name in names] == [0] * len(names)
