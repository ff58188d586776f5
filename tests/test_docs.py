"""The docs site, checked offline in a real browser.

Quarto cannot be installed here, so tools/render_docs.py renders every notebook through nbdev's own docs processing
(the step of `nbdev-docs` that executes show_doc/export/import cells and fails on an exception) and then to HTML
with nbconvert. Each page is opened in headless Chromium (Debian's `chromium`, driven by Playwright): an error
output, a missing image, a broken internal link or a JavaScript error fails the test. Screenshots of the index and
explorer pages are kept in runs/test-artefacts/."""
import html, json, os, re, subprocess, sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from test_explorer import chromium_path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tools'))
ARTEFACTS = ROOT/'runs'/'test-artefacts'
OUT = ROOT/'runs'/'docs-offline'


# Notebooks that nbdev's docs build cannot process yet, with the reason: each is an expected failure (strict, so the
# test says so once it is fixed and the entry must go), and links into their pages are not counted as broken.
# The usual cause: a cell that mixes imports with other code, which nbdev executes when it builds the docs
# (see nbdev's FAQ), without the earlier cells that define the names it uses. Fix: imports in a cell of their own.
PENDING: dict[str, str] = {}  # every notebook is processed today




@pytest.fixture(scope='module')
def site():
    reuse = ['--reuse'] if os.environ.get('SPAE_DOCS_REUSE') else []  # developers: keep processed notebooks
    r = subprocess.run([sys.executable, 'tools/render_docs.py', '--out', str(OUT), *reuse], capture_output=True, text=True,
                       cwd=ROOT, timeout=1800)
    report = json.loads((OUT/'report.json').read_text())
    return r, report


NOTEBOOKS = sorted(p.name for p in (ROOT/'nbs').glob('*.ipynb'))

@pytest.mark.parametrize('notebook', [pytest.param(n, marks=pytest.mark.xfail(reason=PENDING[n], strict=True))
                                      if n in PENDING else n for n in NOTEBOOKS])
def test_notebook_is_processed_by_nbdev_without_error(site, notebook):
    _, report = site
    assert notebook not in report['failed'], report['failed'].get(notebook, '')[-4000:]
    assert notebook in {v['notebook'] for v in report['pages'].values()}


def test_no_error_outputs(site):
    _, report = site
    bad = {page: v['errors'] for page, v in report['pages'].items() if v['errors']}
    assert not bad, bad


def test_sidebar_lists_every_notebook_in_order():
    r = subprocess.run([sys.executable, 'tools/sidebar.py', '--check'], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr


def test_index_lists_every_notebook():
    "The first page's layout table names every notebook that exists, and no notebook that does not."
    text = ''.join(''.join(c['source']) for c in json.loads((ROOT/'nbs'/'index.ipynb').read_text())['cells'])
    table = set(re.findall(r'^\| `(\d\d\w*)` \|', text, re.M))
    assert table == {p.stem for p in (ROOT/'nbs').glob('[0-9]*.ipynb')}


def _pending_pages() -> set[str]:
    from nbdev.doclinks import nbpath2html  # the page nbdev names for a notebook (its output-file)
    return {nbpath2html(ROOT/'nbs'/n).name for n in PENDING}


def _check_links(page_file: Path, hrefs: list[str]) -> list[str]:
    broken, pending = [], _pending_pages()
    for href in hrefs:
        u = urlparse(href)
        if u.scheme in ('http', 'https', 'mailto', 'data', 'javascript') or (not u.path and not u.fragment): continue
        target = (page_file.parent/unquote(u.path)).resolve() if u.path else page_file
        if target.name in pending: continue  # its notebook is in PENDING: counted there
        if not target.exists(): broken.append(f'{href} (no file {target.name})'); continue
        if u.fragment and target.suffix == '.html':
            ids = {html.unescape(i) for i in re.findall(r'\bid="([^"]+)"', target.read_text())}
            if u.fragment not in ids and unquote(u.fragment) not in ids: broken.append(f'{href} (no anchor #{u.fragment} in {target.name})')
    return broken


def test_every_page_opens_in_chromium_without_errors(site):
    from playwright.sync_api import sync_playwright
    _, report = site
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    problems = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), headless=True, args=['--no-sandbox'])
        context = browser.new_context(viewport={'width': 1280, 'height': 900})
        # the pages are read offline: remote scripts (MathJax, require.js from a CDN) are refused, not counted as errors
        context.route(re.compile(r'^https?://'), lambda route: route.abort())
        for name in report['pages']:
            errors, page = [], context.new_page()
            page.on('pageerror', lambda e: errors.append(f'JS error: {e}'))
            page.on('console', lambda m: m.type == 'error' and 'net::ERR_FAILED' not in m.text
                    and 'Failed to load resource' not in m.text and errors.append(f'console error: {m.text[:300]}'))
            page.goto((OUT/name).as_uri(), wait_until='load')
            images = page.eval_on_selector_all('img', 'els => els.map(e => [(e.getAttribute("src") || "").slice(0, 60), e.complete && e.naturalWidth > 0])')
            errors += [f'missing image {src}' for src, ok in images if not ok]
            hrefs = page.eval_on_selector_all('a[href]', 'els => els.map(e => e.getAttribute("href"))')
            errors += [f'broken link {b}' for b in _check_links(OUT/name, hrefs)]
            if name in ('index.html', 'explorer.html'):
                page.screenshot(path=str(ARTEFACTS/f'docs-{Path(name).stem}.png'), full_page=True)
            page.close()
            if errors: problems[name] = errors
        browser.close()
    assert not problems, json.dumps(problems, indent=1)[:6000]
    assert (ARTEFACTS/'docs-index.png').stat().st_size > 20_000 and (ARTEFACTS/'docs-explorer.png').exists()


def test_the_first_page_under_nbval():
    "`pytest --nbval-lax` (nbs/conftest.py: nbdev's skips, named outputs compared) passes on the first page."
    r = subprocess.run([sys.executable, '-m', 'pytest', '-q', '--nbval-lax', 'nbs/index.ipynb', '-p', 'no:cacheprovider'],
                       capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 0 and ' passed' in r.stdout, r.stdout[-3000:]
