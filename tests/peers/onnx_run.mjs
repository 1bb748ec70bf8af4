// Runs an exported loadcast model with ONNX Runtime (npm onnxruntime-node,
// its bundled libonnxruntime.so): reads rows of encoded feature values (CSV
// of floats, no header) and prints {"labels": [...], "probabilities":
// [[p1, p2, p3], ...]} as JSON, with the model's metadata.
//   node onnx_run.mjs MODEL.onnx ROWS.csv
import { readFileSync } from "node:fs";
import * as ort from "onnxruntime-node";

const [model, rowsFile] = process.argv.slice(2);
const rows = readFileSync(rowsFile, "utf8").split("\n").filter((l) => l.length > 0);
const width = rows[0].split(",").length;
const values = new Float32Array(rows.length * width);
rows.forEach((line, r) => line.split(",").forEach((v, c) => (values[r * width + c] = Number(v))));

const session = await ort.InferenceSession.create(model);
const out = await session.run({ features: new ort.Tensor("float32", values, [rows.length, width]) });
const probabilities = [];
for (let r = 0; r < rows.length; r++)
  probabilities.push(Array.from(out.probabilities.data.slice(r * 3, r * 3 + 3)));
console.log(
  JSON.stringify({
    inputs: session.inputNames,
    outputs: session.outputNames,
    labels: Array.from(out.label.data, Number),
    probabilities,
  })
);
