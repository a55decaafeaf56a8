from __future__ import annotations

from hookline.ids import new_id


def test_ids_are_version_7_and_ordered() -> None:
    ids = [new_id() for _ in range(5000)]
    assert all(i.version == 7 for i in ids)
    assert ids == sorted(ids)
    assert sorted(str(i) for i in ids) == [str(i) for i in ids]
    assert len(set(ids)) == len(ids)
