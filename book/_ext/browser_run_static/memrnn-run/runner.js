// Run buttons for the book's code cells: the page's side of book/_ext/browser_run.py.
//
// The page carries, as JSON in #memrnn-run-data, the source of every code cell
// of its notebook (hidden ones too), which figure each hidden cell glues, and
// where Pyodide and the wheels are on this site. Python runs in a Web Worker
// (worker.js), started by the first click on Run, so a reader who only reads
// downloads nothing. All cells of the page share that one interpreter: running
// a cell first runs every cell above it that has not run yet.
//
// The reader's edits are kept in the browser (localStorage), under the book's
// version, the page and the cell, and come back on reload; an edited cell says
// so and can be reset, and so can the whole page. A chapter with an exercise
// offers "Download my notebook": its student edition with the reader's code in
// place of the stub, and their name and student number (asked once, kept in
// the browser) in its metadata and first cell, ready for `memrnn grade`.
(() => {
  "use strict";
  const dataEl = document.getElementById("memrnn-run-data");
  if (!dataEl) return;
  const DATA = JSON.parse(dataEl.textContent);
  const cells = DATA.cells;
  const byIndex = new Map(cells.map((c) => [c.index, c]));
  const done = new Set();        // indices of the cells that ran without error
  const uisOf = new Map();       // cell index -> the UIs (bars) that run it
  const queue = [];
  let quick = true;              // the page's quick setting (see browser_run.py)
  let active = false;            // the reader has asked for a run at least once
  let worker = null;
  let ready = null;              // a promise of the worker's "ready" message
  let busy = false;
  let current = null;            // {id, resolve, sink} of the cell running now
  let runId = 0;
  let rejectReady = null;
  let statusSink = null;         // where the loading messages go
  window.memrnnRun = {timings: [], load: null};   // read by the tests

  const mb = (bytes) => (bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0);
  const totalMB = () => mb(DATA.sizes.core + DATA.sizes.packages + DATA.sizes.memrnn);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  function duration(seconds) {
    if (seconds < 10) return `${seconds.toFixed(1)} s`;
    if (seconds < 90) return `${Math.round(seconds)} s`;
    return `${Math.round(seconds / 60)} min`;
  }

  // The code a cell runs now, and its expected time in the browser.
  function variant(cell) {
    if (cell.stubOn) return "stub";
    if (quick && cell.quick) return "quick";
    return "book";
  }
  function expected(cell) {
    if (variant(cell) === "quick") return cell.quick.seconds;
    return cell.seconds;
  }
  function sourceOf(cell, v = variant(cell)) {
    if (cell.edited && cell.edited[v] !== undefined) return cell.edited[v];
    if (v === "stub") return cell.stub;
    if (v === "quick") return cell.quick.code;
    return cell.source;
  }

  // ------------------------------------------------------- kept in the browser
  const storage = (() => {
    try {
      const probe = "memrnn:probe";
      window.localStorage.setItem(probe, "1");
      window.localStorage.removeItem(probe);
      return window.localStorage;
    } catch (err) {
      return null;          // private mode or storage switched off: edits last until reload
    }
  })();
  const wheelVersion = (DATA.wheels || []).map((w) => /memrnn-([^-/]+)-/.exec(w))
    .filter(Boolean).map((m) => m[1])[0];
  const BOOK = DATA.book || wheelVersion || "unversioned";
  const PAGE = DATA.page || location.pathname;
  const editKey = (cell, v) => `memrnn:edit:${BOOK}:${PAGE}:${cell.index}:${v}`;
  const ID_KEY = "memrnn:student";
  const VARIANTS = ["book", "quick", "stub"];

  const originalOf = (cell, v) => (v === "stub" ? cell.stub
                                   : v === "quick" ? (cell.quick || {}).code : cell.source);

  function storeEdit(cell, v) {
    if (!storage) return;
    try {
      const text = cell.edited && cell.edited[v];
      if (text === undefined || text === originalOf(cell, v)) storage.removeItem(editKey(cell, v));
      else storage.setItem(editKey(cell, v), text);
    } catch (err) {
      // Storage full: the edit still runs, it is just not kept.
    }
  }

  function restoreEdits() {
    if (!storage) return;
    for (const cell of cells) {
      for (const v of VARIANTS) {
        const text = storage.getItem(editKey(cell, v));
        if (text === null) continue;
        cell.edited = cell.edited || {};
        cell.edited[v] = text;
      }
    }
  }

  const isEdited = (cell) => !!cell.edited && Object.keys(cell.edited).length > 0;
  let sessionIdentity = null;    // when the browser keeps nothing

  function resetCell(cell) {
    for (const v of VARIANTS) if (storage) storage.removeItem(editKey(cell, v));
    delete cell.edited;
    done.delete(cell.index);
    for (const {pre, v} of cell.editors || []) pre.textContent = sourceOf(cell, v);
    refreshEdited(cell);
  }

  function refreshEdited(cell) {
    for (const ui of uisOf.get(cell.index) || []) {
      if (!ui.editedMark) continue;
      ui.editedMark.hidden = !isEdited(cell);
      ui.resetButton.hidden = !isEdited(cell);
      ui.bar.classList.toggle("memrnn-is-edited", isEdited(cell));
    }
    if (pageBar) pageBar.refresh();
  }

  function identity() {
    try {
      const saved = JSON.parse((storage && storage.getItem(ID_KEY)) || "null");
      if (saved && saved.name && saved.number) return saved;
    } catch (err) { /* unreadable: ask again */ }
    return sessionIdentity;
  }

  // ------------------------------------------------------------ the worker
  function startWorker() {
    if (location.protocol === "file:") {
      return Promise.reject(new Error(
        "Run needs the book served over HTTP: browsers do not start Python workers for " +
        "files opened from disk. Serve the folder, e.g. python -m http.server -d _build/html, " +
        "and open the page from there."));
    }
    const abs = (url) => new URL(url, document.baseURI).href;
    worker = new Worker(abs(DATA.worker));
    const started = performance.now();
    ready = new Promise((resolve, reject) => {
      rejectReady = reject;
      worker.onmessage = (event) => {
        const msg = event.data;
        if (msg.type === "status") {
          if (statusSink && !msg.detail) statusSink(msg.text);
        } else if (msg.type === "ready") {
          rejectReady = null;
          window.memrnnRun.load = Object.assign({page_seconds: (performance.now() - started) / 1000},
                                                msg);
          resolve(msg);
        } else if (msg.type === "failed") {
          reject(new Error(`Python could not be loaded: ${msg.error}`));
        } else if (msg.type === "output" && current && msg.id === current.id) {
          current.sink(msg);
        } else if (msg.type === "done" && current && msg.id === current.id) {
          const finished = current;
          current = null;
          finished.resolve(msg);
        }
      };
      worker.onerror = (event) => {
        reject(new Error(`Python could not be loaded: ${event.message}`));
        if (current) {
          const failed = current;
          current = null;
          failed.resolve({ok: false, fatal: true, seconds: 0,
                          error: {name: "Error", text: `Python stopped: ${event.message}`}});
        }
      };
    });
    worker.postMessage({type: "init", indexURL: abs(DATA.indexURL), packages: DATA.packages,
                        wheels: DATA.wheels.map(abs), kernelURL: abs(DATA.kernel),
                        version: DATA.version, python: DATA.python, sizes: DATA.sizes});
    return ready;
  }

  function stopWorker(message) {
    if (worker) worker.terminate();
    if (rejectReady) rejectReady(Object.assign(new Error(message), {stopped: true}));
    rejectReady = null;
    worker = null;
    ready = null;
    done.clear();
    queue.length = 0;
    if (current) {
      const stopped = current;
      current = null;
      stopped.resolve({ok: false, stopped: true, seconds: 0, message});
    }
    for (const ui of allUIs) if (ui.running) ui.setState("stopped");
  }

  function execute(cell, sink) {
    return new Promise((resolve) => {
      const id = ++runId;
      current = {id, resolve, sink};
      const hidden = cell.role === "hidden" || cell.role === "output";
      worker.postMessage({type: "run", id, source: sourceOf(cell), hidden,
                          name: `${hidden ? "hidden " : ""}cell ${cell.n}`});
    });
  }

  // ---------------------------------------------------------------- output
  function applyCarriageReturns(text) {
    return text.split("\n").map((line) => {
      const parts = line.split("\r").filter((p, i, all) => p !== "" || i === all.length - 1);
      return parts.length ? parts[parts.length - 1] : "";
    }).join("\n");
  }

  function markdownNode(text) {
    // Pipe tables (the sweep summaries) become tables; anything else stays text.
    const lines = text.trim().split("\n");
    if (lines.length >= 2 && /^\s*\|/.test(lines[0]) && /^\s*\|?[\s:|-]+\|?\s*$/.test(lines[1])) {
      const cellsOf = (line) => line.trim().replace(/^\|/, "").replace(/\|$/, "").split("|")
        .map((s) => s.trim());
      const table = el("table", {class: "table memrnn-table"});
      const head = el("tr");
      for (const name of cellsOf(lines[0])) head.append(el("th", {text: name}));
      table.append(el("thead", {}, head));
      const body = el("tbody");
      for (const line of lines.slice(2)) {
        if (!line.trim()) continue;
        const row = el("tr");
        for (const value of cellsOf(line)) row.append(el("td", {text: value.replace(/\*\*/g, "")}));
        body.append(row);
      }
      table.append(body);
      return table;
    }
    return el("pre", {class: "memrnn-stream", text});
  }

  function bundleNode(data, label) {
    if (data["image/png"]) {
      return el("img", {class: "memrnn-figure", src: `data:image/png;base64,${data["image/png"]}`,
                        alt: `Figure drawn in your browser by ${label}`});
    }
    if (data["text/html"]) {
      const box = el("div", {class: "memrnn-html"});
      box.innerHTML = data["text/html"];
      return box;
    }
    if (data["text/markdown"]) return markdownNode(data["text/markdown"]);
    return el("pre", {class: "memrnn-stream", text: data["text/plain"] || ""});
  }

  // A place for one cell's output: the area under a visible cell or figure.
  function makeSink(area, label, cell) {
    let stream = null;
    let streamName = null;
    let raw = "";
    return (msg) => {
      if (msg.kind === "stream") {
        if (!stream || streamName !== msg.name) {
          stream = el("pre", {class: `memrnn-stream memrnn-${msg.name}`});
          streamName = msg.name;
          raw = "";
          area.append(stream);
        }
        raw += msg.text;
        stream.textContent = applyCarriageReturns(raw);
      } else if (msg.kind === "display") {
        stream = null;
        area.append(bundleNode(msg.data, label));
      } else if (msg.kind === "glue") {
        redrawFigure(msg.name, msg.data, cell);
      }
    };
  }

  function redrawFigure(name, data, cell) {
    const figure = DATA.figures[name];
    if (!figure || !data["image/png"]) return;
    const img = document.querySelector(`main img[data-memrnn-glue="${name}"], ` +
                                       `main img[src*="${figure.image}"]`);
    if (!img) return;
    img.dataset.memrnnGlue = name;
    img.src = `data:image/png;base64,${data["image/png"]}`;
    const box = img.closest("figure") || img.parentElement;
    let note = box.querySelector(".memrnn-redrawn");
    if (!note) {
      note = el("p", {class: "memrnn-redrawn"});
      (box.querySelector("figcaption") || box).before(note);
    }
    // What differs from the book's figure: the quick code of the cell that drew it,
    // or else the quick runs of the cells above that it draws from.
    let differs = [];
    if (cell && variant(cell) === "quick") differs = [cell.quick.differs];
    else if (cell) {
      differs = cells.filter((c) => c.index < cell.index && c.ranQuick && c.role !== "hidden")
        .map((c) => c.quick.differs);
    }
    note.textContent = "Drawn in your browser just now, by the code behind this figure." +
      (differs.length ? ` Quick setting: ${differs.join(" ")}` : "");
  }

  // ------------------------------------------------------------------- runs
  async function process() {
    if (busy) return;
    busy = true;
    while (queue.length) {
      const ui = queue.shift();
      try {
        await runUI(ui);
      } catch (err) {
        ui.area.hidden = false;
        if (err.stopped) {
          ui.setState("stopped");
          ui.area.append(el("p", {class: "memrnn-run-stopped", text: err.message}));
        } else {
          ui.setState("error");
          ui.area.append(el("p", {class: "memrnn-run-problem", text: String(err.message || err)}));
        }
      }
    }
    busy = false;
  }

  async function runUI(ui) {
    const target = ui.cell;
    ui.clear();
    ui.setState("running", "");
    if (!ready) {
      const loading = el("div", {class: "memrnn-run-loading", role: "status"},
        el("span", {class: "memrnn-spinner", "aria-hidden": "true"}),
        el("span", {class: "memrnn-loading-text",
                    text: `Starting Python in your browser (${totalMB()} MB the first time)…`}));
      ui.area.append(loading);
      ui.area.hidden = false;
      statusSink = (text) => { loading.querySelector(".memrnn-loading-text").textContent = text; };
      try {
        await startWorker();
      } finally {
        statusSink = null;
        loading.remove();
      }
    } else {
      await ready;
    }
    const plan = cells.filter((c) => c.index < target.index && !c.skip && !done.has(c.index));
    plan.push(target);
    const estimate = plan.reduce((sum, c) => sum + (expected(c) || 0), 0);
    const before = plan.length - 1;
    if (estimate >= 5) {
      ui.area.hidden = false;
      const parts = [`This takes about ${duration(estimate)} in your browser`];
      if (before > 1) parts.push(` (with the ${before} cells above that have not run yet)`);
      if (before === 1) parts.push(" (with the cell above that has not run yet)");
      ui.area.append(el("p", {class: "memrnn-run-estimate",
        text: parts.join("") + ". Stop ends it, and restarts Python."}));
    } else if (before) {
      ui.note(`first the ${before} cell${before > 1 ? "s" : ""} above…`);
    }
    if (variant(target) === "quick") {
      ui.area.hidden = false;
      const edited = target.edited && target.edited.quick !== undefined;
      ui.area.append(el("p", {class: "memrnn-quick-note",
        text: `Quick setting for the browser${edited ? " (as you edited it)" : ""}: ` +
              target.quick.differs}));
    }
    const started = performance.now();
    ui.startClock(estimate);
    for (const cell of plan) {
      const isTarget = cell === target;
      const own = isTarget ? ui : (uisOf.get(cell.index) || []).find((u) => u.kind === "cell");
      if (own && !isTarget) {
        own.clear();
        own.setState("running", "");
        if (variant(cell) === "quick") {
          own.area.hidden = false;
          own.area.append(el("p", {class: "memrnn-quick-note",
            text: `Quick setting for the browser: ${cell.quick.differs}`}));
        }
      }
      const sink = makeSink(own ? own.area : el("div"), `cell ${cell.n}`, cell);
      const showing = (msg) => { if (own) own.area.hidden = false; sink(msg); };
      const wasQuick = variant(cell) === "quick";
      const result = await execute(cell, showing);
      window.memrnnRun.timings.push({cell: cell.n, index: cell.index, role: cell.role,
                                     seconds: result.seconds, ok: result.ok, quick: wasQuick});
      if (result.stopped) {
        ui.area.hidden = false;
        ui.area.append(el("p", {class: "memrnn-run-stopped", text: result.message}));
        ui.stopClock();
        return;
      }
      if (own && !isTarget) {
        own.setState(result.ok ? "done" : "error",
                     result.ok ? `ran in ${duration(result.seconds)}` : undefined);
      }
      if (!result.ok) {
        done.delete(cell.index);
        const trace = el("pre", {class: "memrnn-error",
                                 text: result.error ? result.error.text : "unknown error"});
        ui.area.hidden = false;
        if (isTarget) {
          ui.area.append(trace);
        } else if (own) {
          own.area.hidden = false;
          own.area.append(trace);
          ui.area.append(el("p", {class: "memrnn-run-stopped",
            text: `Not run: cell ${cell.n} above raised an error (shown under it).`}));
        } else {
          ui.area.append(el("p", {class: "memrnn-run-stopped",
            text: `Not run: a hidden cell of this page (cell ${cell.n}), which this one needs, ` +
                  "raised an error:"}), trace);
        }
        if (result.fatal) stopWorker("Python stopped working and was restarted.");
        ui.setState("error");
        return;
      }
      cell.ranQuick = wasQuick;
      done.add(cell.index);
    }
    ui.stopClock();
    ui.setState("done", `ran in ${duration((performance.now() - started) / 1000)}`);
  }

  // ------------------------------------------------------------------- UIs
  const allUIs = [];

  function makeUI(cell, kind, anchor, placeBar, placeArea) {
    const ui = {cell, kind, anchor, running: false};
    const run = el("button", {type: "button", class: "memrnn-run-button",
                              title: "Run this code in your browser (Python via Pyodide)",
                              text: kind === "figure" ? "▶ Redraw in your browser" : "▶ Run"});
    const stop = el("button", {type: "button", class: "memrnn-stop-button", hidden: "",
                               title: "Stop: ends the run by restarting Python",
                               text: "■ Stop (restarts Python)"});
    const status = el("span", {class: "memrnn-run-status", role: "status", "aria-live": "polite"});
    const bar = el("div", {class: "memrnn-run-bar", role: "group",
                           "aria-label": `Run cell ${cell.n} in your browser`}, run);
    ui.bar = bar;
    ui.area = el("div", {class: "memrnn-run-output", hidden: ""});
    ui.area.dataset.cell = cell.n;
    bar.dataset.cell = cell.n;

    if (cell.role === "solution" && cell.stub) {
      const stubButton = el("button", {type: "button", class: "memrnn-stub-button",
                                       "aria-pressed": "false", text: "Your turn: use the stub"});
      ui.stubButton = stubButton;
      ui.setStub = (on) => {
        cell.stubOn = on;
        stubButton.setAttribute("aria-pressed", String(on));
        stubButton.textContent = on ? "Back to the solution" : "Your turn: use the stub";
      };
      stubButton.addEventListener("click", () => {
        ui.setStub(!cell.stubOn);
        done.delete(cell.index);
        showVariant(cell);
        const details = anchor.querySelector("details");
        if (details) details.open = true;
        ui.note(cell.stubOn ? "the student edition's stub: write your code in it, run it, " +
                              "then run the check below" : "");
      });
      bar.append(stubButton);
    }
    if (kind !== "cell" || cell.role === "output") {
      const show = el("button", {type: "button", class: "memrnn-code-button",
                                 "aria-expanded": "false", text: "Show the code"});
      show.addEventListener("click", () => {
        const box = codeBox(cell, ui);
        box.hidden = !box.hidden;
        show.setAttribute("aria-expanded", String(!box.hidden));
        show.textContent = box.hidden ? "Show the code" : "Hide the code";
      });
      bar.append(show);
      ui.showButton = show;
    }
    if (cell.quick) {
      const box = el("input", {type: "checkbox", class: "memrnn-quick-toggle"});
      box.checked = quick;
      box.addEventListener("change", () => setQuick(box.checked));
      bar.append(el("label", {class: "memrnn-quick",
                              title: `Quick setting: ${cell.quick.differs}`}, box,
                    document.createTextNode(" quick setting")));
      ui.quickBox = box;
    }
    if (kind === "cell") {
      ui.editedMark = el("span", {class: "memrnn-edited-mark", hidden: "",
                                  text: "edited (kept in this browser)"});
      ui.resetButton = el("button", {type: "button", class: "memrnn-reset-button", hidden: "",
                                     title: "Put the book's code back in this cell",
                                     text: "Reset this cell"});
      ui.resetButton.addEventListener("click", () => resetCell(cell));
      bar.append(ui.editedMark, ui.resetButton);
      if (cell.role === "solution" && cell.stub && studentLink()) {
        bar.append(el("button", {type: "button", class: "memrnn-download-button",
                                 text: "Download my notebook", onclick: () => handIn(bar)}));
      }
    }
    const estimateNote = el("span", {class: "memrnn-run-note"});
    bar.append(estimateNote, stop, status);
    ui.refreshNote = () => {
      const seconds = expected(cell);
      estimateNote.textContent = seconds >= 5 ? `about ${duration(seconds)} in your browser` : "";
    };
    ui.refreshNote();
    ui.note = (text) => { status.textContent = text; };
    ui.clear = () => {
      ui.area.replaceChildren();
      ui.area.hidden = true;
      if (kind === "cell") {
        const bookOutput = anchor.querySelector(":scope > .cell_output");
        if (bookOutput) bookOutput.classList.add("memrnn-replaced");
      }
    };
    let clock = null;
    ui.startClock = (estimate) => {
      const t0 = performance.now();
      const tick = () => {
        const s = (performance.now() - t0) / 1000;
        status.textContent = `running… ${Math.floor(s)} s` +
                             (estimate >= 5 ? ` of about ${duration(estimate)}` : "");
      };
      tick();
      clock = setInterval(tick, 1000);
    };
    ui.stopClock = () => { if (clock) clearInterval(clock); clock = null; };
    ui.setState = (state, text) => {
      ui.running = state === "running";
      if (!ui.running) ui.stopClock();
      bar.dataset.state = state;
      stop.hidden = !ui.running;
      status.textContent = text !== undefined ? text
        : {error: "error", stopped: "stopped"}[state] || "";
    };
    run.addEventListener("click", () => {
      activate();
      if (queue.includes(ui) || ui.running) return;
      queue.push(ui);
      if (busy) ui.note("waiting for the run in progress…");
      process();
    });
    stop.addEventListener("click", () => stopWorker(
      "Stopped. Python was restarted, so the next run starts again from the top of the page."));
    placeBar(bar);
    placeArea(ui.area);
    allUIs.push(ui);
    if (!uisOf.has(cell.index)) uisOf.set(cell.index, []);
    uisOf.get(cell.index).push(ui);
    return ui;
  }

  // The code behind a figure or a hidden-input output: shown on demand, editable.
  function codeBox(cell, ui) {
    if (!ui.codeBox) {
      ui.codeBox = el("div", {class: "memrnn-code-box highlight", hidden: ""});
      const v = variant(cell);
      ui.codeBox.append(editable(el("pre", {class: "memrnn-code", text: sourceOf(cell, v)}),
                                 cell, v));
      ui.bar.after(ui.codeBox);
    }
    return ui.codeBox;
  }

  // A code block the reader can edit; what they type is what that variant runs.
  function editable(pre, cell, v) {
    if (pre.dataset.memrnnEditable) return pre;
    pre.dataset.memrnnEditable = v;
    pre.contentEditable = "plaintext-only";
    if (pre.contentEditable !== "plaintext-only") pre.contentEditable = "true";
    pre.spellcheck = false;
    pre.classList.add("memrnn-editable");
    pre.setAttribute("aria-label", `code of cell ${cell.n}, editable`);
    // A text box for assistive technology, reachable by keyboard even where it scrolls.
    pre.setAttribute("role", "textbox");
    pre.setAttribute("aria-multiline", "true");
    pre.tabIndex = 0;
    pre.addEventListener("input", () => {
      cell.edited = cell.edited || {};
      cell.edited[v] = pre.innerText.replace(/\n$/, "");
      storeEdit(cell, v);
      if (cell.edited[v] === originalOf(cell, v)) delete cell.edited[v];   // typed back: not edited
      done.delete(cell.index);
      refreshEdited(cell);
    });
    cell.editors = cell.editors || [];
    cell.editors.push({pre, v});
    return pre;
  }

  // Visible cells show the code that runs: the book's, the quick setting's or the stub.
  function showVariant(cell) {
    const ui = (uisOf.get(cell.index) || []).find((u) => u.kind === "cell");
    if (!ui || !ui.input) return;
    cell.pres = cell.pres || {};
    if (!cell.pres.book) cell.pres.book = ui.input.querySelector("pre");
    if (!cell.pres.book) return;
    const v = variant(cell);
    if (!cell.pres[v]) {
      const box = el("div", {class: "highlight memrnn-variant"});
      cell.pres[v] = el("pre", {class: "memrnn-code", text: sourceOf(cell, v)});
      box.append(cell.pres[v]);
      cell.pres.book.closest("div.highlight").after(box);
    }
    for (const [name, pre] of Object.entries(cell.pres)) {
      const box = name === "book" ? pre.closest("div.highlight") : pre.parentElement;
      if (box) box.hidden = name !== v;
    }
    if (active || v === "stub" || isEdited(cell)) for (const [name, pre] of Object.entries(cell.pres)) {
      editable(pre, cell, name);
    }
  }

  function setQuick(on) {
    quick = on;
    for (const ui of allUIs) {
      if (ui.quickBox) ui.quickBox.checked = on;
      ui.refreshNote();
    }
    if (active) for (const c of cells) if (c.quick) showVariant(c);
  }

  // The first Run: the code becomes editable and heavy cells show their quick code.
  function activate() {
    if (active) return;
    active = true;
    for (const c of cells) if (c.role !== "hidden" && c.role !== "output") showVariant(c);
  }

  // ----------------------------------------------- the page's bar: hand in, reset
  let pageBar = null;

  function studentLink() {
    const name = `${DATA.chapter || ""}-student.ipynb`;
    return [...document.querySelectorAll("main a[href$='.ipynb']")]
      .find((a) => a.getAttribute("href").split("/").pop() === name) || null;
  }

  function makePageBar() {
    // The chapter's title in the article (the theme repeats it in a print-only header).
    const main = document.querySelector("main article h1") || document.querySelector("main h1");
    if (!main) return null;
    const status = el("span", {class: "memrnn-run-status", role: "status", "aria-live": "polite"});
    const bar = el("div", {class: "memrnn-page-bar", role: "group",
                           "aria-label": "Your work on this page"});
    const resetAll = el("button", {type: "button", class: "memrnn-reset-page-button", hidden: "",
                                   text: "Reset all my edits on this page"});
    resetAll.addEventListener("click", () => {
      if (!window.confirm("Put the book's code back in every cell of this page? " +
                          "Your edits on this page are deleted from this browser.")) return;
      for (const cell of cells) if (isEdited(cell)) resetCell(cell);
      status.textContent = "All cells of this page show the book's code again.";
    });
    const who = el("span", {class: "memrnn-identity"});
    const handsIn = cells.some((c) => c.stub) && !!studentLink();
    if (handsIn) {
      bar.append(el("button", {type: "button", class: "memrnn-download-button",
                               text: "Download my notebook", onclick: () => handIn(bar)}), who);
    }
    bar.append(resetAll, status);
    main.after(bar);
    return {
      bar, status,
      refresh() {
        resetAll.hidden = !cells.some(isEdited);
        bar.hidden = !handsIn && resetAll.hidden && !status.textContent;
        const id = identity();
        who.replaceChildren();
        if (id) {
          who.append(document.createTextNode(`as ${id.name} (${id.number}) `),
                     el("button", {type: "button", class: "memrnn-change-identity",
                                   text: "change", onclick: () => askIdentity(bar, false)}));
        }
      },
    };
  }

  // The name and student number, asked once and kept in this browser.
  let form = null;
  function askIdentity(near, thenDownload) {
    if (!form) {
      const name = el("input", {type: "text", id: "memrnn-student-name", autocomplete: "name",
                                required: ""});
      const number = el("input", {type: "text", id: "memrnn-student-number", required: ""});
      const submit = el("button", {type: "submit", class: "memrnn-save-identity", text: "Save"});
      const cancel = el("button", {type: "button", text: "Cancel"});
      form = el("form", {class: "memrnn-identity-form", "aria-label": "Your name and student number"},
        el("p", {text: "Your name and student number go into every notebook you download. " +
                       "They are kept in this browser only."}),
        el("label", {for: "memrnn-student-name", text: "Name "}), name,
        el("label", {for: "memrnn-student-number", text: " Student number "}), number,
        document.createTextNode(" "), submit, document.createTextNode(" "), cancel);
      form.inputs = {name, number};
      cancel.addEventListener("click", () => { form.hidden = true; });
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const id = {name: name.value.trim(), number: number.value.trim()};
        if (!id.name || !id.number) return;
        sessionIdentity = id;
        try {
          if (storage) storage.setItem(ID_KEY, JSON.stringify(id));
        } catch (err) { /* kept for this visit only */ }
        form.hidden = true;
        if (pageBar) pageBar.refresh();
        if (form.thenDownload) download(id, form.near);
      });
    }
    const id = identity() || {};
    form.inputs.name.value = id.name || "";
    form.inputs.number.value = id.number || "";
    form.thenDownload = thenDownload;
    form.near = near;
    near.after(form);
    form.hidden = false;
    form.inputs.name.focus();
  }

  function handIn(near) {
    const id = identity();
    if (!id) askIdentity(near, true);
    else download(id, near);
  }

  function say(near, text) {
    if (pageBar && near === pageBar.bar) pageBar.status.textContent = text;
    else {
      const status = near.querySelector(".memrnn-run-status");
      if (status) status.textContent = text;
    }
  }

  // The chapter's student edition, with this reader's code in it.
  async function notebook(id) {
    const link = studentLink();
    const response = await fetch(new URL(link.getAttribute("href"), document.baseURI));
    if (!response.ok) throw new Error(`the student edition could not be loaded (${response.status})`);
    const nb = await response.json();
    const stubs = cells.filter((c) => c.role === "solution" && c.stub);
    const editedBook = new Map(cells.filter((c) => c.edited && c.edited.book !== undefined)
      .map((c) => [c.source, c.edited.book]));
    let s = 0;
    for (const cell of nb.cells) {
      if (cell.cell_type !== "code") continue;
      const source = Array.isArray(cell.source) ? cell.source.join("") : cell.source;
      const tags = (cell.metadata && cell.metadata.tags) || [];
      if (tags.includes("stub")) {
        const mine = stubs[s++];
        if (mine && mine.edited && mine.edited.stub !== undefined) cell.source = mine.edited.stub;
      } else if (editedBook.has(source)) {
        cell.source = editedBook.get(source);
      }
    }
    nb.metadata = nb.metadata || {};
    nb.metadata.memrnn_student = {name: id.name, number: id.number, book: BOOK, page: PAGE,
                                  downloaded: new Date().toISOString()};
    const first = {cell_type: "markdown", metadata: {tags: ["student-id"]},
                   source: `**Handed in by**\n\n- Name: ${id.name}\n- Student number: ${id.number}\n`};
    if ((nb.nbformat_minor || 0) >= 5) first.id = "memrnn-student-id";
    // The student edition starts with the empty form for JupyterLab (tools/student_edition.py):
    // filled in here, in its place.
    const form = nb.cells[0] && ((nb.cells[0].metadata || {}).tags || []).includes("student-id");
    nb.cells.splice(0, form ? 1 : 0, first);
    return nb;
  }

  async function download(id, near) {
    try {
      const nb = await notebook(id);
      const blob = new Blob([JSON.stringify(nb, null, 1) + "\n"], {type: "application/x-ipynb+json"});
      const url = URL.createObjectURL(blob);
      const safe = id.number.replace(/[^A-Za-z0-9_-]+/g, "_");
      const a = el("a", {href: url, download: `${DATA.chapter}-${safe}.ipynb`});
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      say(near, `Downloaded ${DATA.chapter}-${safe}.ipynb: hand in that file.`);
    } catch (err) {
      say(near, `Could not make your notebook: ${err.message || err}`);
    }
  }

  function build() {
    restoreEdits();
    pageBar = makePageBar();
    for (const cell of cells) {
      if (cell.role === "hidden" || cell.skip) continue;
      const anchor = document.querySelector(`.memrnn-cell-${cell.index}`);
      if (!anchor) continue;
      const ui = makeUI(cell, "cell", anchor,
        (bar) => anchor.prepend(bar),
        (area) => anchor.append(area));
      ui.input = anchor.querySelector(".cell_input");
    }
    const seen = new Set();
    for (const [name, figure] of Object.entries(DATA.figures)) {
      const cell = byIndex.get(figure.cell);
      const img = document.querySelector(`main img[src*="${figure.image}"]`);
      if (!cell || !img || cell.skip || seen.has(img)) continue;
      seen.add(img);
      const box = img.closest("figure") || img.parentElement;
      img.dataset.memrnnGlue = name;
      makeUI(cell, "figure", box, (bar) => box.append(bar), (area) => box.append(area));
    }
    // Edits kept from an earlier visit: shown, editable and marked.
    for (const cell of cells) {
      if (!isEdited(cell)) continue;
      const ui = (uisOf.get(cell.index) || []).find((u) => u.kind === "cell");
      if (cell.edited.stub !== undefined && ui && ui.setStub) {
        ui.setStub(true);
        const details = ui.anchor.querySelector("details");
        if (details) details.open = true;
        ui.note("your code from your last visit, kept in this browser");
      }
      showVariant(cell);
      // The book's own (highlighted) code block shows the kept edit as plain text.
      for (const {pre, v} of cell.editors || []) {
        if (cell.edited[v] !== undefined && pre.innerText.replace(/\n$/, "") !== cell.edited[v]) {
          pre.textContent = cell.edited[v];
        }
      }
      refreshEdited(cell);
    }
    if (pageBar) pageBar.refresh();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", build);
  else build();
})();
