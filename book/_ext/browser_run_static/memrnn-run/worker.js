// The book's Python, in a Web Worker so that the page stays responsive while a
// cell runs. runner.js (the page's side) starts it and sends two kinds of
// message:
//   {type: "init", indexURL, packages, wheels, kernelURL, sizes}
//       load Pyodide from the site (indexURL), then the packages named in its
//       pyodide-lock.json, then the wheels given by URL (tqdm, memrnn), then
//       kernel.py; reports progress as {type: "status", text} and ends with
//       {type: "ready", ...} or {type: "failed", error};
//   {type: "run", id, source, name, hidden}
//       run one cell; its output comes back as {type: "output", id, ...} and
//       the end as {type: "done", id, ok, error, seconds}.
// Everything is fetched from the site itself: no other host is ever asked.
"use strict";

let kernel = null;
let current = null;   // the id of the run in progress

function post(message) {
  self.postMessage(message);
}

function mb(bytes) {
  return (bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0);
}

async function init(msg) {
  const start = performance.now();
  const sizes = msg.sizes || {};
  post({type: "status", text: `Loading Python ${msg.python || ""} (Pyodide ${msg.version}, ` +
                              `${mb(sizes.core || 0)} MB)…`});
  importScripts(msg.indexURL + "pyodide.js");
  const pyodide = await loadPyodide({
    indexURL: msg.indexURL,
    stdout: (text) => post({type: "output", id: current, kind: "stream", name: "stdout",
                            text: text + "\n"}),
    stderr: (text) => post({type: "output", id: current, kind: "stream", name: "stderr",
                            text: text + "\n"}),
  });
  const coreSeconds = (performance.now() - start) / 1000;
  post({type: "status", text: `Loading ${msg.packages.join(", ")} and their dependencies ` +
                              `(${mb(sizes.packages || 0)} MB)…`});
  // Pyodide reports each package it loads through messageCallback; the page
  // shows them, the console stays quiet.
  const quiet = {messageCallback: (text) => post({type: "status", text: text + "…",
                                                 detail: true}),
                 errorCallback: (text) => post({type: "status", text, detail: true})};
  await pyodide.loadPackage(msg.packages, quiet);
  post({type: "status", text: `Installing memrnn (${mb(sizes.memrnn || 0)} MB)…`});
  await pyodide.loadPackage(msg.wheels, quiet);
  const source = await (await fetch(msg.kernelURL)).text();
  pyodide.FS.writeFile("/home/pyodide/memrnn_run_kernel.py", source);
  post({type: "status", text: "Importing numpy, matplotlib and memrnn…"});
  kernel = pyodide.pyimport("memrnn_run_kernel");
  const info = JSON.parse(kernel.setup((json) => {
    const data = JSON.parse(json);
    post(Object.assign({type: "output", id: current}, data));
  }));
  post(Object.assign({type: "ready", seconds: (performance.now() - start) / 1000,
                      core_seconds: coreSeconds}, info));
}

function run(msg) {
  current = msg.id;
  let result;
  try {
    result = JSON.parse(kernel.run(msg.source, msg.name, !!msg.hidden));
  } catch (err) {
    // Pyodide itself failed (out of memory, a fatal error): the page restarts the worker.
    result = {ok: false, fatal: true, seconds: 0,
              error: {name: "PyodideError", text: String(err && err.message || err)}};
  }
  current = null;
  post(Object.assign({type: "done", id: msg.id}, result));
}

self.onmessage = async (event) => {
  const msg = event.data;
  if (msg.type === "init") {
    try {
      await init(msg);
    } catch (err) {
      post({type: "failed", error: String(err && err.message || err)});
    }
  } else if (msg.type === "run") {
    run(msg);
  }
};
