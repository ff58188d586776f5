"""nbs/sidebar.yml: the docs sidebar in narrative order (the index, the method page, then the numbered notebooks grouped
by stage), from the notebooks present in nbs/.

    python tools/sidebar.py          # write nbs/sidebar.yml
    python tools/sidebar.py --check  # exit 1 if it is out of date (tests/test_docs.py runs this)

nbdev's own `nbdev-sidebar` lists files alphabetically without sections; pyproject sets custom_sidebar = true so that
nbdev leaves this file alone.
"""
import re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT/'nbs'
PAGES = ['method.ipynb']  # pages without a module, right after the index: the method in equations
SECTIONS = [  # (title, first and last notebook number of the stage)
    ('Foundations', 0, 1),
    ('The tokenizer', 2, 4),
    ('Learning it', 5, 8),
    ('A frozen LLM reads and writes images', 9, 11),
    ('Using it', 12, 99),
]

def render() -> str:
    nbs = sorted(p.name for p in NBS.glob('[0-9]*.ipynb'))
    lines = ['website:', '  sidebar:', '    contents:', '      - index.ipynb']
    lines += [f'      - {n}' for n in PAGES if (NBS/n).exists()]
    for title, lo, hi in SECTIONS:
        part = [n for n in nbs if lo <= int(re.match(r'\d+', n).group()) <= hi]
        if not part: continue
        lines += [f'      - section: "{title}"', '        contents:'] + [f'          - {n}' for n in part]
    return '\n'.join(lines) + '\n'

if __name__ == '__main__':
    text, path = render(), NBS/'sidebar.yml'
    if '--check' in sys.argv:
        if not path.exists() or path.read_text() != text:
            print('nbs/sidebar.yml is out of date with the notebooks in nbs/: run `python tools/sidebar.py`'); sys.exit(1)
        print('nbs/sidebar.yml matches nbs/')
    else: path.write_text(text); print(f'wrote {path}')
