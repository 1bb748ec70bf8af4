"""Checks an exported loadcast model with ONNX's own checker (Debian's
python3-onnx), the full check with shape inference; prints the opsets, the
node's operator and the metadata keys as JSON.
    /usr/bin/python3 onnx_check.py MODEL.onnx"""
import json
import sys

import onnx

model = onnx.load(sys.argv[1])
onnx.checker.check_model(model, full_check=True)
print(json.dumps({
    "ir_version": model.ir_version,
    "opsets": {o.domain: o.version for o in model.opset_import},
    "ops": [n.op_type for n in model.graph.node],
    "metadata": {p.key: p.value for p in model.metadata_props},
}))
