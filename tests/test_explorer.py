"""The explorer as a student meets it: JupyterLab on localhost, the explorer notebook opened and run in a real headless
Chromium (Debian's `chromium`, driven by Playwright), the layers slider moved, the reconstruction checked to change.
Screenshots go to runs/test-artefacts/. Needs `chromium` (tools/install_system_deps.sh installs it) and the dev extras
(jupyterlab, playwright)."""
import json, os, re, shutil, socket, subprocess, sys, time, urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTEFACTS = ROOT/'runs'/'test-artefacts'


def chromium_path() -> str:
    "The system Chromium (SPAE_CHROMIUM overrides); a clear failure, not a skip, when it is missing."
    path = os.environ.get('SPAE_CHROMIUM') or shutil.which('chromium') or shutil.which('chromium-browser')
    assert path, 'Chromium is not installed: run `sh tools/install_system_deps.sh` (as root) or apt-get install chromium'
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    "JupyterLab serving a copy of the explorer notebook (a copy, so that autosave never writes into nbs/)."
    nb = json.loads((ROOT/'nbs'/'12_explorer.ipynb').read_text())
    nb['metadata']['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3 (ipykernel)', 'language': 'python'}
    (tmp_path/'12_explorer.ipynb').write_text(json.dumps(nb))
    port, token = free_port(), 'spae-test'
    env = {**os.environ, 'HF_HUB_OFFLINE': '1', 'TRANSFORMERS_OFFLINE': '1', 'JUPYTER_CONFIG_DIR': str(tmp_path/'cfg'),
           'JUPYTER_RUNTIME_DIR': str(tmp_path/'rt')}
    log = open(tmp_path/'lab.log', 'w')
    proc = subprocess.Popen([sys.executable, '-m', 'jupyterlab', '--no-browser', f'--port={port}', '--ip=127.0.0.1',
                             f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={tmp_path}',
                             '--LabApp.news_url=', '--ServerApp.allow_root=True'],
                            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path)
    base = f'http://127.0.0.1:{port}'
    try:
        for _ in range(360):  # up to 3 minutes: a loaded machine starts JupyterLab slowly
            try:
                urllib.request.urlopen(f'{base}/api/status?token={token}', timeout=2); break
            except OSError: time.sleep(0.5)
        else: raise AssertionError('JupyterLab did not start:\n' + (tmp_path/'lab.log').read_text()[-3000:])
        yield base, token
    finally:
        proc.terminate()
        try: proc.wait(20)
        except subprocess.TimeoutExpired: proc.kill()
        log.close()


def test_student_runs_the_explorer_in_jupyterlab(lab):
    from playwright.sync_api import sync_playwright
    base, token = lab
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    errors = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), headless=True, args=['--no-sandbox'])
        page = browser.new_page(viewport={'width': 1400, 'height': 1000})
        page.on('pageerror', lambda e: errors.append(str(e)))
        page.goto(f'{base}/lab/tree/12_explorer.ipynb?token={token}')
        page.wait_for_selector('.jp-Notebook .jp-Cell', timeout=120_000)
        page.wait_for_selector('text=/\\| Idle/', timeout=120_000)  # the kernel is up
        page.click('.lm-MenuBar-item:has-text("Run")')
        page.click('.lm-Menu-item:has-text("Run All Cells")')
        # the explorer appears once the notebook has run up to its `explore(...)` cell (the last cells may scroll it
        # out of view, where JupyterLab hides it: wait for it in the page, then scroll to it)
        page.wait_for_selector('.spae-recon', state='attached', timeout=400_000)
        recon = page.locator('.spae-recon')
        recon.scroll_into_view_if_needed()
        page.wait_for_function("document.querySelector('.spae-status') && document.querySelector('.spae-status').innerText.includes('layers ≤5')",
                               timeout=60_000)
        before = recon.screenshot()
        page.screenshot(path=str(ARTEFACTS/'explorer-lab-before.png'))
        # move the slider: focus its handle, step two layers down with the keyboard
        handle = page.locator('.spae-layers .noUi-handle')
        handle.focus(); handle.press('ArrowLeft'); handle.press('ArrowLeft')
        page.wait_for_function("document.querySelector('.spae-status').innerText.includes('layers ≤3')", timeout=60_000)
        page.wait_for_timeout(500)  # let the new PNG paint
        after = recon.screenshot()
        page.screenshot(path=str(ARTEFACTS/'explorer-lab.png'))
        status = page.inner_text('.spae-status')
        # the test-image box shows the image on screen, and typing 0 there shows test image 0
        shown = re.search(r'test image (\d+)', status).group(1)
        box = page.locator('.spae-index input')
        box_before = box.input_value()
        box.fill('0'); box.press('Enter')
        page.wait_for_function("document.querySelector('.spae-status').innerText.includes('(test image 0)')", timeout=60_000)
        status_0 = page.inner_text('.spae-status')
        browser.close()
    assert before != after, 'moving the layers slider did not change the reconstruction'
    assert 'layers ≤3 = 21 words' in status, status
    assert (ARTEFACTS/'explorer-lab.png').stat().st_size > 20_000
    assert box_before == shown != '0', (box_before, status)
    assert '(test image 0)' in status_0, status_0
    assert not errors, errors


@pytest.fixture(scope='module')
def explorer():
    from spae.explorer import PyramidExplorer
    return PyramidExplorer()  # the packaged demo tokenizer, Fashion-MNIST test images


def test_index_box_shows_the_image_on_screen(explorer):
    "The box once said 0 while image 8 was shown, so typing 0 changed nothing; now it follows the explorer."
    explorer.show_index(8); explorer.widget(); c = explorer.controls
    assert c.index.value == 8 and explorer.index == 8
    c.index.value = 0
    assert explorer.index == 0 and '(test image 0)' in c.status.value
    c.index.value = 8
    assert explorer.index == 8 and c.index.value == 8


def test_index_box_after_an_image_file(explorer, tmp_path):
    "A file shows as -1 in the box, so that typing the previous test image's index shows it again."
    from PIL import Image
    Image.new('RGB', (40, 40), 'white').save(tmp_path/'white.png')
    explorer.show_index(3); explorer.widget(); c = explorer.controls
    explorer.show_file(tmp_path/'white.png'); c.refresh()
    assert explorer.index is None and c.index.value == -1 and explorer.name == 'white.png'
    c.index.value = 3
    assert explorer.index == 3 and c.index.value == 3
    c.index.value = -1  # not an image: the status line says so, the box goes back to the image shown
    assert 'must be in 0..' in c.status.value and c.index.value == 3


def test_the_two_pyramid_figures_have_distinct_names():
    "`plot_pyramid_layout` (a pyramid's strides, spae.quantizer) and `plot_word_pyramid` (an image's words, spae.explorer)."
    import spae.explorer, spae.quantizer
    assert spae.quantizer.plot_pyramid_layout.__module__ == 'spae.quantizer'
    assert spae.explorer.plot_word_pyramid.__module__ == 'spae.explorer'
    assert not hasattr(spae.quantizer, 'plot_pyramid')
    assert not hasattr(spae.explorer, 'plot_pyramid')  # one name per figure: plot_word_pyramid here, plot_pyramid_layout in 03
