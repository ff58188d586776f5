"""`pytest --nbval-lax nbs/`: the notebooks under nbval, skipping exactly the cells that `nbdev-test` skips
(cells flagged with a `tst_flags` flag of pyproject's [tool.nbdev] — notest, slow, gpu —, `#| eval: false` cells,
and notebooks whose front matter says skip_exec). The cells in CHECK_OUTPUT — those whose printed words and numbers
the prose and README quote — have their outputs compared with the committed ones (nbdev-clean drops cell tags,
so they are named here by how their source starts)."""
import os

import pytest

os.environ.setdefault('IN_TEST', '1')  # as nbdev-test sets it: `nbdev_export()` calls in notebooks do nothing

CHECK_OUTPUT = {
    'index.ipynb': ("model = SPAE.load('demo')", "for name in ('demo', 'paper')"),
    '12_explorer.ipynb': ("pictures = decode_prefixes", "before, near = ex.word", "ring = Image.new"),
}

_skips: dict[str, list[bool]] = {}

def skipped_cells(path: str) -> list[bool]:
    "For each code cell of the notebook at `path`: does nbdev-test skip it? (nbdev's own predicate)"
    if path not in _skips:
        from fastcore.nbio import read_nb
        from nbdev.config import get_config
        from nbdev.test import _skip_cell
        nb = read_nb(path)
        skip = _skip_cell(nb, str(get_config().get('tst_flags', '')).split())
        _skips[path] = [bool(skip(c)) for c in nb.cells if c.cell_type == 'code']
    return _skips[path]

def pytest_collection_modifyitems(config, items):
    for item in items:
        if type(item).__name__ != 'IPyNbCell': continue
        if skipped_cells(str(item.fspath))[item.cell_num]:
            item.add_marker(pytest.mark.skip(reason='nbdev-test skips this cell (tst_flags or eval: false)'))
            continue
        if item.cell.get('execution_count') is None and item.cell.get('outputs'):
            item.cell.execution_count = 1  # nbdev-clean drops execution counts; the outputs did come from running it
        starts = CHECK_OUTPUT.get(os.path.basename(str(item.fspath)), ())
        if any(item.cell.source.startswith(s) for s in starts): item.options['check'] = True
