"""README.md is generated from nbs/index.ipynb (Quarto's nbdev-readme is not installable offline).

    python tools/readme.py          # write README.md
    python tools/readme.py --check  # exit 1 if README.md differs from what index.ipynb gives
"""
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def render():
    nb = json.loads((ROOT/'nbs'/'index.ipynb').read_text())
    parts = []
    for cell in nb['cells']:
        src = ''.join(cell['source']).strip()
        if not src: continue
        if cell['cell_type'] == 'markdown': parts.append(src)
        elif cell['cell_type'] == 'code' and not src.startswith('#| hide'):
            parts.append('```python\n' + src + '\n```')
            for out in cell.get('outputs', []):
                text = ''.join(out.get('text', '') or out.get('data', {}).get('text/plain', ''))
                if text.strip(): parts.append('```\n' + text.rstrip() + '\n```')
    header = '<!-- generated from nbs/index.ipynb by tools/readme.py: edit the notebook, not this file -->'
    return header + '\n\n' + '\n\n'.join(parts) + '\n'

if __name__ == '__main__':
    text = render()
    if '--check' in sys.argv:
        if (ROOT/'README.md').read_text() != text:
            print('README.md is out of date with nbs/index.ipynb: run `python tools/readme.py`'); sys.exit(1)
        print('README.md matches nbs/index.ipynb')
    else:
        (ROOT/'README.md').write_text(text); print('wrote README.md')
