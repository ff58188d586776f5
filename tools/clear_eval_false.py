"""Drop the outputs of `#| eval: false` cells (tools/nb.py executes them; nbdev and the docs never do).

    python tools/clear_eval_false.py nbs/12_explorer.ipynb
"""
import json, sys
from pathlib import Path

def clear(path: Path) -> int:
    nb = json.loads(path.read_text())
    n = 0
    for cell in nb['cells']:
        src = ''.join(cell['source'])
        if cell['cell_type'] == 'code' and any(l.replace(' ', '') == '#|eval:false' for l in src.splitlines() if l.startswith('#|')):
            if cell.get('outputs'): n += 1
            cell['outputs'], cell['execution_count'] = [], None
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')
    return n

if __name__ == '__main__':
    for f in sys.argv[1:]: print(f'{f}: cleared {clear(Path(f))} eval: false cell(s)')
