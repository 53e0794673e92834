"""Line numbers from newline marks: the same answers as counting every byte, with marks from the shared
Hyperscan pass, from the pass of their own, or without marks (the RE2 engine)."""

from __future__ import annotations

from eksdiag.engine.multimatch import hyperscan_available
from eksdiag.engine.newlines import STRIDE, BlockLines, newline_marks
from hypothesis import given, settings
from hypothesis import strategies as st

blocks = st.lists(st.binary(max_size=5).map(lambda b: b.replace(b"\n", b"")), max_size=4 * STRIDE).map(
    lambda lines: b"".join(line + b"\n" for line in lines)
)


@settings(max_examples=200, deadline=None)
@given(block=blocks, tail=st.binary(max_size=5), data=st.data())
def test_block_lines_count_what_bytes_count_counts(block: bytes, tail: bytes, data: st.DataObject) -> None:
    block += tail.replace(b"\n", b"")  # a piece or a file's last line may end without a newline
    offsets = sorted(data.draw(st.lists(st.integers(0, len(block)), max_size=12)))
    engines = ["re2", "hyperscan"] if hyperscan_available() else ["re2"]
    for engine in engines:
        marks = newline_marks(block, engine)
        assert (marks is None) == (engine == "re2")
        lines = BlockLines(block, marks)
        assert [lines.before(o) for o in offsets] == [block.count(b"\n", 0, o) for o in offsets]
        assert lines.total() == block.count(b"\n")
