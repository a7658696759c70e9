"""report.html as a person sees it: rendered by headless Chromium (installed by .ci/run)."""
import re
import shutil
import subprocess

import numpy as np
import pytest

from ngram_collapse import cli

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not on PATH (.ci/run installs it: apt-get install chromium)")

# appended to a copy of the page: records script errors, failed resources and undecoded images in the DOM
PROBE = """<script>
window.__problems = [];
window.addEventListener('error', e => window.__problems.push('error: ' + (e.message || (e.target && e.target.src))), true);
const originalError = console.error;
console.error = (...args) => { window.__problems.push('console.error: ' + args.join(' ')); originalError(...args); };
window.addEventListener('load', () => {
  const images = Array.from(document.images);
  images.filter(img => !img.complete || img.naturalWidth === 0)
        .forEach(img => window.__problems.push('image not decoded: ' + img.alt));
  const out = document.createElement('pre');
  out.id = 'probe';
  out.textContent = 'IMAGES=' + images.length + ' PROBLEMS=' + JSON.stringify(window.__problems);
  document.body.appendChild(out);
});
</script>"""


def chromium(tmp_path, url, *extra):
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1200,2000", *extra, url],
        capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def report(tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("html") / "report"
    assert cli.main(["report", "--corpus", "wikitext-2:valid", "--data-dir", str(data_dir), "--max-words", "60000",
                     "--orders", "1,2", "--sampling", "poisson", "--workflows", "replace,mix-fresh,accumulate",
                     "--real-fractions", "0.1", "--trajectories", "3", "--generations", "8", "--jobs", "2", "--quiet",
                     "--out", str(out)]) == 0
    return out / "report.html"


def test_report_is_self_contained(report):
    page = report.read_text(encoding="utf-8")
    sources = re.findall(r"""src=['"]([^'"]*)['"]""", page)
    assert len(sources) == 5 and all(s.startswith("data:image/png;base64,") for s in sources)
    assert "<script" not in page and "http" not in page.replace("https://", "").replace("http://", "")
    assert page.count("<tr>") == 1 + 6  # header and one row per cell
    assert "Regimes compared" in page  # three workflows of one corpus and order on one plot


def test_report_renders_in_headless_chromium(report, tmp_path):
    shot = tmp_path / "shot.png"
    run = chromium(tmp_path, report.as_uri(), f"--screenshot={shot}", "--enable-logging=stderr", "--v=0")
    assert run.returncode == 0 and shot.is_file(), run.stderr[-2000:]
    console = [line for line in run.stderr.splitlines() if "CONSOLE" in line]
    assert not console, console
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (2000, 1200)
    colours = np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    non_white = np.mean(pixels.min(axis=2) < 0.95)
    assert len(colours) > 200 and non_white > 0.05, (len(colours), non_white)


def probe(report, tmp_path, page):
    """The problems the PROBE script found in ``page`` rendered by Chromium: (images, problems)."""
    probed = report.with_name("probed.html")
    probed.write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    run = chromium(tmp_path, probed.as_uri(), "--virtual-time-budget=5000", "--dump-dom")
    found = re.search(r"IMAGES=(\d+) PROBLEMS=(.*?)</pre>", run.stdout)
    assert found, run.stdout[-2000:] + run.stderr[-2000:]
    return int(found.group(1)), found.group(2)


def test_report_has_no_errors_in_the_browser(report, tmp_path):
    page = report.read_text(encoding="utf-8")
    assert probe(report, tmp_path, page) == (5, "[]")
    # the probe does see a broken image
    images, problems = probe(report, tmp_path, page.replace("base64,", "base64,@@", 1))
    assert images == 5 and "image not decoded" in problems
