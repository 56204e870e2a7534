"""The documentation's examples run, so they cannot go stale.

Every fenced ``pycon`` or ``python`` block with ``>>>`` prompts in README.md
and docs/*.md is a doctest.  The blocks of one page run in order in one
namespace, as a reader would type them, against the installed gilfree.  The
README's test command must also be the one ``.ci/run`` runs.  The relative
links of README.md and docs/*.md must lead to files of the repository, which
a reader on GitHub follows, and the README must not link to a site that may
not be published.

Outside a source checkout (a wheel's test copy has no docs/) these tests skip.
"""

from __future__ import annotations

import doctest
import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"

pytestmark = pytest.mark.thread_unsafe(reason="examples change the process-wide thread default")

FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^\n`]*)$")
LANGUAGES = {"pycon", "python", "py", "python3"}
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def fenced_blocks(text: str):
    """Yield (first line number, language, body) of each fenced code block."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, indent = m["fence"], len(m["indent"])
        info = m["info"].strip()
        # MyST directive fences: ```{code-block} python
        if info.startswith("{code-block}") or info.startswith("{code}"):
            info = info.split("}", 1)[1].strip()
        lang = info.split()[0].lower() if info else ""
        body, j = [], i + 1
        while j < len(lines) and not re.match(rf"^ {{0,{indent + 3}}}{fence[0]}{{{len(fence)},}}\s*$", lines[j]):
            body.append(lines[j][indent:] if lines[j].startswith(" " * indent) else lines[j].lstrip())
            j += 1
        yield i + 2, lang, "\n".join(body) + "\n"
        i = j + 1


HAVE_DASK = importlib.util.find_spec("dask") is not None


def page_doctest(path: Path, *, with_dask: bool = True) -> doctest.DocTest | None:
    """The page's examples as one doctest; without Dask, its Dask blocks are left out."""
    parser = doctest.DocTestParser()
    examples: list[doctest.Example] = []
    for lineno, lang, body in fenced_blocks(path.read_text(encoding="utf-8")):
        if lang not in LANGUAGES or ">>>" not in body:
            continue
        if not with_dask and "dask" in body:
            continue
        for ex in parser.get_examples(body, name=str(path)):
            ex.lineno += lineno - 1  # doctest adds 1 when it reports
            examples.append(ex)
    if not examples:
        return None
    return doctest.DocTest(examples, {}, path.name, str(path), 0, None)


PAGES = sorted(DOCS.glob("*.md")) + [README] if DOCS.is_dir() and README.is_file() else []
TESTED = [p for p in PAGES if page_doctest(p) is not None]


@pytest.mark.skipif(not PAGES, reason="no docs/ here (not a source checkout)")
def test_pages_with_examples_are_found():
    names = {p.name for p in TESTED}
    # The pages whose examples a reader types first must be among them.
    assert {"README.md", "getting-started.md", "tutorial.md", "user-guide.md"} <= names, names


@pytest.mark.parametrize("path", TESTED, ids=[p.name for p in TESTED])
def test_page_examples(path, restore_num_threads):
    test = page_doctest(path, with_dask=HAVE_DASK)
    if test is None:
        pytest.skip("every example on this page needs dask (pip install 'gilfree[dask]')")
    test.globs = {"__name__": "__main__"}
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report: list[str] = []
    with np.printoptions(legacy=False):
        result = runner.run(test, out=report.append, clear_globs=True)
    assert result.attempted == len(test.examples)
    assert result.failed == 0, "".join(report)


def test_fenced_blocks_parser():
    text = "a\n```pycon\n>>> 1 + 1\n2\n```\n\n  ~~~python\n  >>> 3\n  3\n  ~~~\n```bash\necho\n```\n"
    blocks = list(fenced_blocks(text))
    assert [(lang, body) for _, lang, body in blocks] == [
        ("pycon", ">>> 1 + 1\n2\n"),
        ("python", ">>> 3\n3\n"),
        ("bash", "echo\n"),
    ]
    assert [line for line, _, _ in blocks] == [3, 8, 12]


@pytest.mark.skipif(not (ROOT / ".ci" / "run").is_file() or not README.is_file(), reason="not a source checkout")
def test_readme_test_command_is_what_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    m = re.search(r"# --- begin: the README's test command, verbatim ---\n(.*?)\n# --- end ---", ci, re.S)
    assert m, ".ci/run lost its marker comments"
    command = m.group(1).strip()
    readme = README.read_text(encoding="utf-8")
    assert command in readme.splitlines()
    bench = 'python3 -m venv .venv && . .venv/bin/activate && pip install ".[bench]" && gilfree bench'
    assert bench in readme.splitlines()


# ---------------------------------------------------------------- links
# A reader of the repository follows the README's links on GitHub, where a
# relative link opens the Markdown file it names; the same links work in the
# Sphinx site, where MyST turns links to .md pages into links between pages.

# [text](target), ![alt](target), [text](<target> "title"), <scheme:...>
# autolinks and [label]: target definitions.
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*(?:<(?P<angled>[^>]*)>|(?P<bare>[^\s)]+))")
AUTOLINK = re.compile(r"<(?P<url>[a-zA-Z][a-zA-Z0-9+.-]*:[^\s<>]*)>")
DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(?P<url>[^\s>]+)", re.M)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)", re.S)


def prose(text: str) -> str:
    """The text without its fenced code blocks and code spans (which link nothing)."""
    lines = text.splitlines()
    kept: list[str] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            kept.append(lines[i])
            i += 1
            continue
        fence, indent = m["fence"], len(m["indent"])
        j = i + 1
        while j < len(lines) and not re.match(rf"^ {{0,{indent + 3}}}{fence[0]}{{{len(fence)},}}\s*$", lines[j]):
            j += 1
        kept.extend([""] * (j + 1 - i))  # keep the line numbers
        i = j + 1
    return CODE_SPAN.sub(lambda m: "\n" * m.group(0).count("\n"), "\n".join(kept))


def link_targets(text: str):
    """Yield (line number, target) of each link in Markdown text."""
    body = prose(text)
    for rx in (INLINE_LINK, AUTOLINK, DEFINITION):
        for m in rx.finditer(body):
            target = next(g for g in m.groups() if g is not None)
            yield body.count("\n", 0, m.start()) + 1, target


LINKED_PAGES = [README, *sorted(DOCS.glob("*.md"))] if DOCS.is_dir() and README.is_file() else []


def test_link_targets_parser():
    text = (
        "See [a](docs/a.md#x), ![b](img.png 'title') and [c](<d e.md>).\n"
        "<https://example.org/> and `[not](a-link.md)` and [d][ref].\n"
        "```md\n[in a block](nope.md)\n```\n"
        "[ref]: ../f.md\n"
    )
    assert list(link_targets(text)) == [
        (1, "docs/a.md#x"),
        (1, "img.png"),
        (1, "d e.md"),
        (2, "https://example.org/"),
        (6, "../f.md"),
    ]
    assert "readthedocs" not in prose("the site, once published: `x.readthedocs.io`")


@pytest.mark.skipif(not LINKED_PAGES, reason="no docs/ here (not a source checkout)")
@pytest.mark.parametrize("path", LINKED_PAGES, ids=[p.name for p in LINKED_PAGES])
def test_relative_links_lead_to_files(path):
    broken = []
    relative = 0
    for lineno, target in link_targets(path.read_text(encoding="utf-8")):
        if SCHEME.match(target) or target.startswith("#"):
            continue  # a web address, or a heading of this page
        relative += 1
        file = target.split("#", 1)[0].split("?", 1)[0]
        resolved = (path.parent / file).resolve()
        if not resolved.exists() or not resolved.is_relative_to(ROOT):
            broken.append(f"{path.relative_to(ROOT)}:{lineno}: {target}")
    assert not broken, "links to files that are not in the repository:\n" + "\n".join(broken)
    if path == README:
        assert relative >= 10, "the README should link its documentation pages in docs/"


@pytest.mark.skipif(not README.is_file(), reason="no README.md here (not a source checkout)")
def test_readme_does_not_link_to_an_unpublished_site():
    # The README is read on GitHub (and on PyPI) before any site is published:
    # its documentation links are the pages in docs/.  The site's address may
    # be named in a code span, which GitHub does not turn into a link.
    text = prose(README.read_text(encoding="utf-8"))
    hits = [f"README.md:{n}: {line.strip()}" for n, line in enumerate(text.splitlines(), 1) if "readthedocs.io" in line]
    assert not hits, "links to readthedocs.io (link to docs/*.md instead):\n" + "\n".join(hits)
