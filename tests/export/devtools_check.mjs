// devtools_check.mjs ENGINE_DIR TRACE.json — load a Chrome trace with Chrome DevTools'
// own trace engine (the Performance panel's parser, @paulirish/trace_engine, installed in
// ENGINE_DIR by scripts/install-deps.sh) and print what it understood, as one JSON
// object: the threads it built (name -> entries), the flows it bound, the time bounds.
// export_test.py compares that with the export. Exits 1 if the engine rejects the file.
import {pathToFileURL} from 'node:url';

const [engineDir, trace] = process.argv.slice(2);
const engine = await import(pathToFileURL(
    `${engineDir}/node_modules/@paulirish/trace_engine/analyze-trace.mjs`).href);
const {parsedTrace} = await engine.analyzeTrace(trace);
const data = parsedTrace.data;
const threads = {};
for (const proc of data.Renderer.processes.values())
  for (const t of proc.threads.values())
    threads[t.name] = t.entries.length;
console.log(JSON.stringify({
  threads,
  flows: data.Flows.flows.length,
  range_us: data.Meta.traceBounds.range,
}));
