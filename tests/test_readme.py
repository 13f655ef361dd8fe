"""The README a newcomer reads: short, true to the book, its example's output the real one."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")

#: A duration typed by hand: "34 s", "4 min 24 s", "65 s measured", "about 5 minutes", "2.6 ms".
TIMING = re.compile(r"\b\d+(\.\d+)?\s*(s|ms|min|mins|minutes?|seconds?|hours?|h)\b(?![-/])")


def test_the_readme_is_short_and_names_the_two_commands():
    assert len(README.splitlines()) <= 150
    assert "bash scripts/build-book.sh" in README and "bash scripts/test.sh" in README
    assert "bash scripts/test.sh" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_no_timing_is_typed_by_hand():
    for name in ("README.md", "CONTRIBUTING.md"):
        text = (ROOT / name).read_text(encoding="utf-8")
        found = [m.group(0) for m in TIMING.finditer(text)]
        assert not found, (name, found)
    assert TIMING.search("it takes 4 min 24 s") and TIMING.search("in 65 s measured")


def test_its_figure_and_links_exist():
    images = re.findall(r"!\[([^\]]+)\]\(([^)]+)\)", README)
    assert len(images) == 1 and len(images[0][0]) > 40, images       # one figure, with alt text
    links = re.findall(r"(?<!!)\[[^\]]+\]\(([^)#]+)\)", README) + [images[0][1]]
    links += re.findall(r"`((?:book|tools|scripts)/[\w./-]+\.(?:md|py|sh))`", README)
    for link in links:
        assert (ROOT / link).exists(), link


def test_it_lists_every_chapter_by_its_title():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    pages = [ch["file"] for part in toc["parts"] for ch in part["chapters"]
             if ch["file"] not in ("book/api", "book/references", "book/course")]
    for page in pages:
        title = next(line[2:] for line in (ROOT / f"{page}.md").read_text(encoding="utf-8").splitlines()
                     if line.startswith("# "))
        assert f"| {title.split(':')[0]} |" in README, (page, title)


def test_the_usage_example_prints_what_the_readme_says():
    """Line for line, with the numbers of this machine near the README's: another CPU's SIMD
    kernels change the last bits of a float64 run, and so where it ends (CONTRIBUTING.md)."""
    code, output = re.search(r"```python\n(.*?)```\n\nprints\n\n```\n(.*?)```", README, re.S).groups()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "README.md", "exec"), {})
    number = re.compile(r"\d+\.\d+")
    got, said = printed.getvalue().splitlines(), output.splitlines()
    assert [number.sub("#", line) for line in got] == [number.sub("#", line) for line in said], got
    mse, trivial = map(float, number.findall(got[0]))
    assert trivial == 0.3333 and mse < 0.8 * trivial, got           # it learned (chapter 4)
    assert abs(mse - float(number.findall(said[0])[0])) < 0.05, (got, said)
