"""Print the book to PDF: its single HTML page, in the system's Chromium.

The PDF edition (CONTRIBUTING.md, "The PDF edition") is the whole book rendered as one
HTML page by Sphinx's ``singlehtml`` builder, which ``scripts/build-pdf.sh``
runs after the HTML build on the same Sphinx environment, so no chapter is
executed twice. This module prints that page::

    python tools/print_book.py BUILD_DIR OUT.pdf

where ``BUILD_DIR`` is the ``_build`` folder that holds ``singlehtml/``. It
writes ``OUT.pdf`` and, next to it, ``report.json`` (pages, the contents with
their pages, timings).

How: the page is served on 127.0.0.1 and opened in Chromium through Playwright,
with every request to another host blocked. MathJax (the site's own copy)
typesets every equation, and every image is decoded, before anything is
printed. The print stylesheet next to this file (``print_book.css``) drops the
site's navigation, sidebars and buttons, starts each chapter on a new page,
keeps figures whole and opens folded cells and solutions. A title page and a
table of contents are added. Chromium cannot number the contents itself
(no CSS ``target-counter``), so the page is printed twice: first with an
invisible marker in each heading that the contents lists, from which
``pdftotext`` (poppler-utils) reads the page each heading landed on; then,
with those numbers filled in and the markers gone, for good. The numbers take
the same room in both prints, so nothing moves in between. The footer carries
the page number, and the PDF has bookmarks for every heading.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import html
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
#: Chromium's flags, as in tests/test_browser.py: headless as root, no network of its own.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]

#: Requests that the PDF cannot do without: a failure of one of these fails the print.
VITAL = ("document", "stylesheet", "image", "font")

#: Page margins; the footer with the page number sits in the bottom one.
MARGINS = {"top": "16mm", "bottom": "18mm", "left": "17mm", "right": "17mm"}

_FOOTER = """<div style="width: 100%; margin: 0 17mm; font-size: 8px; color: #555;
  font-family: sans-serif; display: flex; justify-content: space-between;">
  <span>{title}</span><span><span class="pageNumber"></span> / <span class="totalPages"></span></span>
</div>"""

#: Run in the page before printing: opens folded content, turns the links, marks
#: the chapters, adds the title page and the contents, and puts an invisible
#: marker into every heading that the contents lists.
_PREPARE_JS = r"""(meta) => {
  const article = document.querySelector('article.bd-article');
  if (!article) throw new Error('no article.bd-article in the single page');
  document.documentElement.dataset.theme = 'light';
  document.documentElement.dataset.mode = 'light';

  // Folded content prints open.
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  document.querySelectorAll('.toggle-hidden').forEach(e => e.classList.remove('toggle-hidden'));

  // Links: a target in the book becomes an in-document link; a link to another
  // file of the site (a download, a page outside the book) becomes plain text;
  // links to other sites stay.
  for (const a of document.querySelectorAll('a[href]')) {
    const url = new URL(a.getAttribute('href'), location.href);
    if (url.origin !== location.origin) continue;
    const id = decodeURIComponent(url.hash.slice(1));
    if (id && document.getElementById(id)) a.setAttribute('href', '#' + id);
    else a.removeAttribute('href');
  }

  const clean = h => {
    const copy = h.cloneNode(true);
    copy.querySelectorAll('.headerlink, .pdf-mark').forEach(e => e.remove());
    return copy.textContent.replace(/\s+/g, ' ').trim();
  };
  const heading = section => Array.from(section.children).find(e => /^H[1-6]$/.test(e.tagName));
  const subsections = section => Array.from(section.children)
      .filter(e => e.tagName === 'SECTION' && heading(e));

  // The chapters: the root document's section, and each document the single page inlines.
  const intro = Array.from(article.children).find(e => e.tagName === 'SECTION');
  const chapterOf = {};
  chapterOf[meta.root] = intro;
  for (const span of article.querySelectorAll('span[id^="document-"]')) {
    let next = span.nextElementSibling;
    while (next && next.tagName !== 'SECTION') next = next.nextElementSibling;
    if (next) chapterOf[span.id.slice('document-'.length)] = next;
  }
  const missing = meta.parts.flatMap(p => p.files).filter(f => !chapterOf[f]);
  if (!intro || missing.length) throw new Error('chapters not found: ' + missing.join(', '));

  let marks = 0;
  const entry = (section, kind) => {
    const h = heading(section);
    const id = 'pdf-mark-' + (marks++);
    const mark = document.createElement('span');
    mark.className = 'pdf-mark';
    mark.textContent = 'QQPDFMARK' + marks + 'QQ';
    h.prepend(mark);
    if (!section.id) section.id = id;
    return {kind, title: clean(h), target: section.id, token: mark.textContent};
  };

  const entries = [];
  const addChapter = (file, part) => {
    const section = chapterOf[file];
    section.classList.add('pdf-chapter');
    if (part) {
      const label = document.createElement('p');
      label.className = 'pdf-part-label';
      label.textContent = part;
      section.prepend(label);
    }
    const e = entry(section, 'chapter');
    if (part) e.part = part;
    entries.push(e);
    // The introduction's own sections; the chapters inlined into it are not among them.
    for (const sub of subsections(section)) entries.push(entry(sub, 'section'));
  };
  addChapter(meta.root, null);
  for (const part of meta.parts)
    part.files.forEach((file, i) => addChapter(file, i === 0 ? part.caption : null));

  // Title page and contents, before the introduction.
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const title = el('div', 'pdf-title-page');
  title.append(el('h1', null, meta.title), el('p', 'pdf-subtitle', meta.subtitle),
               el('p', 'pdf-author', meta.author));
  const note = el('p', 'pdf-note');
  meta.note.forEach((line, i) => { if (i) note.append(document.createElement('br')); note.append(line); });
  title.append(note);

  const contents = el('nav', 'pdf-contents');
  contents.append(el('h1', null, 'Contents'));
  const list = el('ol');
  for (const e of entries) {
    if (e.part) list.append(el('li', 'pdf-toc-part', e.part));
    const li = el('li', e.kind === 'chapter' ? 'pdf-toc-chapter' : 'pdf-toc-section');
    const a = el('a', 'pdf-toc-line');
    a.href = '#' + e.target;
    a.append(el('span', 'pdf-toc-title', e.title), el('span', 'pdf-toc-dots'),
             el('span', 'pdf-toc-page'));
    a.lastChild.dataset.token = e.token;
    li.append(a);
    list.append(li);
  }
  contents.append(list);
  article.prepend(title, contents);
  return entries;
}"""

_FILL_PAGES_JS = r"""(pages) => {
  for (const span of document.querySelectorAll('.pdf-toc-page'))
    span.textContent = String(pages[span.dataset.token]);
  document.querySelectorAll('.pdf-mark').forEach(e => e.remove());
}"""

_READY_JS = r"""async () => {
  if (document.querySelector('.math')) {
    if (!window.MathJax || !MathJax.startup) throw new Error('MathJax did not load');
    await MathJax.startup.promise;
  }
  await Promise.all(Array.from(document.images).map(img => img.decode().catch(() => {
    throw new Error('image not decoded: ' + img.getAttribute('src'));
  })));
  await document.fonts.ready;
  const maths = Array.from(document.querySelectorAll('article .math'));
  return {math: maths.length,
          typeset: maths.filter(m => m.querySelector('mjx-container')).length,
          errors: document.querySelectorAll('mjx-merror, [data-mjx-error]').length,
          images: document.querySelectorAll('article img').length};
}"""


def book_meta(repo: Path = ROOT) -> dict:
    """What the title page and the contents need, from _config.yml and _toc.yml."""
    config = yaml.safe_load((repo / "_config.yml").read_text(encoding="utf-8"))
    toc = yaml.safe_load((repo / "_toc.yml").read_text(encoding="utf-8"))
    title = str(config.get("title", "")).strip()
    main, _, sub = title.partition(":")
    return {
        "root": toc["root"],
        "parts": [{"caption": part.get("caption", ""),
                   "files": [ch["file"] for ch in part["chapters"]]}
                  for part in toc.get("parts", [])],
        "title": main.strip() if sub else title,
        "subtitle": sub.strip()[:1].upper() + sub.strip()[1:],
        "author": str(config.get("author", "")),
        "full_title": title,
        "note": [f"Printed on {datetime.date.today().isoformat()} from the executable book, "
                 f"memrnn {_version()}.",
                 "Every figure and every number in it was computed when the book was built.",
                 "The book's site offers each chapter as a notebook to run."],
    }


def _version() -> str:
    try:
        return metadata.version("memrnn")
    except metadata.PackageNotFoundError:
        return "(version unknown)"


def pdf_pages(pdf: Path) -> list[str]:
    """The text of each page of ``pdf`` (pdftotext), first page first."""
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


def _pages_of_tokens(pdf: Path, tokens: list[str]) -> dict[str, int]:
    """For each marker token, the (1-based) page of ``pdf`` whose text holds it."""
    found = {}
    for number, page in enumerate(pdf_pages(pdf), start=1):
        for token in re.findall(r"QQPDFMARK\d+QQ", re.sub(r"\s+", "", page)):
            found.setdefault(token, number)
    missing = [t for t in tokens if t not in found]
    if missing:
        raise RuntimeError(f"print_book: {len(missing)} headings not found in the first "
                           f"print ({missing[:3]}...); pdftotext saw none of their markers")
    return found


def print_book(build: Path, target: Path, chromium: str | None = None) -> dict:
    """Print ``build/singlehtml`` (the single page of the book) to ``target``.

    Returns a summary: the contents with their pages, counts, the time taken.
    """
    started = time.monotonic()
    build, target = Path(build), Path(target)
    meta = book_meta()
    single = build / "singlehtml"
    source = single / f"{meta['root']}.html"
    if not source.is_file():
        raise RuntimeError(f"print_book: no single page at {source}; build it with "
                           "`jupyter-book build --builder singlehtml` first")
    # singlehtml writes the root document where _toc.yml puts it (book/intro.html),
    # but every link in it is relative to the site's root. A copy there resolves them.
    page_file = single / "pdf-edition.html"
    shutil.copyfile(source, page_file)
    css = (Path(__file__).with_name("print_book.css")).read_text(encoding="utf-8")
    chromium = chromium or os.environ.get("MEMRNN_CHROMIUM", "/usr/bin/chromium")

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(Quiet, directory=str(single)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host = f"127.0.0.1:{server.server_port}"
    # What would make the PDF wrong fails the print: a request off the machine,
    # a missing page, stylesheet, image or font, an equation MathJax did not
    # typeset. Anything else a script of the site does (or fails to do) in the
    # single page is reported and printed over.
    problems, notes = [], []

    def failed(request, why):
        kind = request.resource_type
        (problems if kind in VITAL else notes).append(f"{why}: {request.url} ({kind})")

    def route(route, request):  # a closure: Playwright passes (route, request)
        parts = urlsplit(request.url)
        if parts.netloc not in (host, ""):
            problems.append(f"blocked a request to another host: {request.url}")
            route.abort("blockedbyclient")
        elif parts.path == "/searchindex.js" and not (single / "searchindex.js").exists():
            # The theme's pages load the search index; singlehtml makes none, and
            # a printed page searches nothing.
            route.fulfill(status=200, content_type="text/javascript", body="")
        else:
            route.continue_()

    footer = _FOOTER.format(title=html.escape(meta["full_title"]))
    options = dict(format="A4", margin=MARGINS, print_background=True,
                   display_header_footer=True, header_template="<span></span>",
                   footer_template=footer, outline=True, tagged=True)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, headless=True,
                                         args=CHROMIUM_ARGS)
            try:
                context = browser.new_context(viewport={"width": 1000, "height": 1400},
                                              service_workers="block")
                context.set_default_timeout(180_000)
                context.route("**/*", route)
                page = context.new_page()
                page.on("pageerror", lambda err: notes.append(f"script error: {err}"))
                page.on("requestfailed", lambda req: failed(req, f"failed ({req.failure})"))
                page.on("response", lambda resp: resp.status >= 400 and failed(
                    resp.request, f"HTTP {resp.status}"))
                page.goto(f"http://{host}/{page_file.name}", wait_until="load")
                page.emulate_media(media="print")
                page.add_style_tag(content=css)
                ready = page.evaluate(_READY_JS)
                if ready["typeset"] != ready["math"] or ready["errors"]:
                    problems.append(f"MathJax typeset {ready['typeset']} of {ready['math']} "
                                    f"equations, with {ready['errors']} errors")
                if problems:
                    raise RuntimeError("print_book: the single page did not load cleanly:\n"
                                       + "\n".join(problems))
                entries = page.evaluate(_PREPARE_JS, meta)
                page.evaluate("() => document.fonts.ready.then(() => true)")
                with tempfile.TemporaryDirectory() as tmp:
                    first = Path(tmp) / "first.pdf"
                    page.pdf(path=str(first), **options)
                    pages = _pages_of_tokens(first, [e["token"] for e in entries])
                page.evaluate(_FILL_PAGES_JS, pages)
                target.parent.mkdir(parents=True, exist_ok=True)
                partial = target.with_suffix(".partial.pdf")
                page.pdf(path=str(partial), **options)
                partial.replace(target)
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()
        page_file.unlink(missing_ok=True)
    for note in dict.fromkeys(notes):
        print(f"print_book: note: {note}")
    if problems:
        raise RuntimeError("print_book: " + "\n".join(problems))
    for e in entries:
        e["page"] = pages[e.pop("token")]
    return {"pdf": str(target), "contents": entries, "math": ready["math"],
            "images": ready["images"], "seconds": round(time.monotonic() - started, 1)}


def main(argv=None):
    parser = argparse.ArgumentParser(description="Print the book's single page to PDF.")
    parser.add_argument("build", type=Path, help="the _build folder that holds singlehtml/")
    parser.add_argument("target", type=Path, help="the PDF to write")
    args = parser.parse_args(argv)
    summary = print_book(args.build, args.target)
    summary["pages"] = len(pdf_pages(args.target))
    report = args.target.with_name("report.json")
    report.write_text(json.dumps(summary, indent=1), encoding="utf-8")
    print(f"printed {summary['pages']} pages ({summary['images']} images, "
          f"{summary['math']} equations) in {summary['seconds']} s: {args.target}")
    for e in summary["contents"]:
        if e["kind"] == "chapter":
            print(f"  p. {e['page']:>3}  {e['title']}")


if __name__ == "__main__":
    main()
