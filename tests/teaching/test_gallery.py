"""The gallery writer: figures and a page with a text per block and per preset stage."""

from launderbench.benchmarks.gallery import BLOCK_EXAMPLES, BLOCK_TEXT, write_gallery
from launderbench.simulator.laundering.playbooks import BLOCKS


def test_every_block_has_an_example_and_a_text():
    assert set(BLOCK_EXAMPLES) == set(BLOCK_TEXT) == set(BLOCKS)


def test_write_small_gallery(tmp_path):
    out = write_gallery(tmp_path / "g", blocks=["peel", "bridge"], presets=["zaif-2018-v1"],
                        dpi=40)
    page = (out / "README.md").read_text()
    for rel in ("blocks/peel.png", "blocks/bridge.png", "presets/zaif-2018-v1.png"):
        assert (out / rel).stat().st_size > 2_000 and f"({rel})" in page
    assert "**integration**" in page and "What a detector sees" in page
