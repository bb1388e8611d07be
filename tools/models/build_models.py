#!/usr/bin/python3
"""Builds AnomalyDetector's ONNX models (and the tests' deliberately bad ones) from their definitions here.

Run by `dotnet cake build.cake --target=Models` with Debian's python3-onnx and python3-numpy. The output is
deterministic: the same definitions give the same bytes, so the committed files can be checked against a rebuild.
Each graph is checked with onnx.checker and onnx.shape_inference before it is written.

The k-nearest-neighbour novelty model (see components/AnomalyDetector/models/README.md):
  inputs   history [1, H]      the series' latest H readings, oldest first, normalised to its range so far
                               (missing readings at 1e4, far from any real one)
           calibration [S, C]  per time scale, the novelty distances of the series' last C readings (+inf where unused)
           ceiling [S, 1]      per time scale, the largest distance of the series' last readings (its record window)
  outputs  score [1]           anomaly score of the newest reading, in [0, 1]
           distance [S]        its novelty distance at each scale (+inf while a scale has too few readings)
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13


class Graph:
    """A small builder: named constants and nodes, each output name unique."""

    def __init__(self):
        self.nodes = []
        self.initializers = []
        self.count = 0

    def const(self, name, value, dtype=np.float32):
        array = np.array(value, dtype=dtype)
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def op(self, op_type, inputs, outputs=1, name=None, **attributes):
        self.count += 1
        base = name or f"{op_type.lower()}_{self.count}"
        names = [base] if outputs == 1 else [f"{base}_{i}" for i in range(outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, names, name=f"n{self.count}_{op_type}", **attributes))
        return names[0] if outputs == 1 else names


def knn_novelty(history, calibration, scales, k, tolerance, rank_top, spatial_floor, extra_work=0, fail_above=None):
    g = Graph()
    one = g.const("one", [1.0])
    zero = g.const("zero", [0.0])
    infinity = g.const("infinity", [np.inf])
    flat = g.op("Reshape", ["history", g.const("flat_shape", [history], np.int64)])
    newest = g.op("Slice", [flat, g.const("last_start", [history - 1], np.int64), g.const("last_end", [history], np.int64),
                            g.const("axis0", [0], np.int64)])
    # Squared distances of the current window to every earlier one, at every scale at once, as
    #   |w - q|^2 = sum(w^2) - 2 sum(w q) + sum(q^2)
    # with two 1-D convolutions over the history: the query's last L readings (zero-padded on the left to the longest
    # scale) as one kernel per scale, and a window of ones per scale for the rolling sum of squares. Output column j is
    # the window whose last reading is history[j + longest - 1].
    longest = max(scales)
    positions = history - longest + 1
    masks = np.zeros((len(scales), longest), dtype=np.float32)
    for i, length in enumerate(scales):
        masks[i, longest - length:] = 1.0
    # One convolution over two channels (the history's squares and the history) with, per scale, the kernels
    # [ones, -2 x query] masked to the scale's last L readings: sum(w^2) - 2 sum(w q) for every window end at once.
    signal = g.op("Reshape", [flat, g.const("signal_shape", [1, 1, history], np.int64)])
    channels = g.op("Concat", [g.op("Mul", [signal, signal]), signal], axis=1)
    query = g.op("Slice", [flat, g.const("query_start", [history - longest], np.int64), g.const("query_end", [history], np.int64), "axis0"])
    kernels = g.op("Mul", [g.const("scale_masks", masks), query])
    weights = g.op("Concat", [g.const("ones_kernels", masks.reshape(len(scales), 1, longest)),
                              g.op("Reshape", [g.op("Mul", [kernels, g.const("minus_two", [-2.0])]), g.const("kernel_shape", [len(scales), 1, longest], np.int64)])], axis=1)
    partial = g.op("Reshape", [g.op("Conv", [channels, weights]), g.const("rows_shape", [len(scales), positions], np.int64)])
    query_energy = g.op("ReduceSum", [g.op("Mul", [kernels, kernels]), g.const("axis1q", [1], np.int64)], keepdims=1)
    # A window of scale L must end before the current L readings start: later ones are masked away.
    ends = np.arange(positions)[None, :] + longest - 1
    mask = np.where(ends <= history - 1 - np.array(scales)[:, None], 0.0, 1e30).astype(np.float32)
    squared = g.op("Relu", [g.op("Add", [g.op("Add", [partial, query_energy]), g.const("too_recent", mask)])])
    nearest, _ = g.op("TopK", [squared, g.const("k", [k], np.int64)], outputs=2, axis=1, largest=0, sorted=1)
    distance = g.op("ReduceMean", [g.op("Sqrt", [nearest])], axes=[1], keepdims=1)
    # Missing readings among the nearest: no distance at that scale yet.
    unknown = g.op("Greater", [distance, g.const("unknown", [1e3])])
    # Above the ceiling (the largest distance of the scale's last readings, kept by the series): a new record,
    # 0.9 + 0.1 x (1 - ceiling / distance). Below it: the rank among the scale's last C distances x rank_top (< 0.9).
    below = g.op("ReduceSum", [g.op("Cast", [g.op("Less", ["calibration", distance])], to=TensorProto.FLOAT), g.const("axis1", [1], np.int64)], keepdims=1)
    rank = g.op("Mul", [below, g.const("rank_scale", [rank_top / calibration])])
    record = g.op("Sub", [g.const("record_top", [1.0]), g.op("Mul", [g.op("Div", ["ceiling", distance]), g.const("record_rest", [0.1])])])
    temporal = g.op("Where", [g.op("Greater", [distance, "ceiling"]), record, rank])
    temporal = g.op("ReduceMax", [g.op("Where", [unknown, zero, temporal])], axes=[0, 1], keepdims=0)
    temporal = g.op("Reshape", [temporal, g.const("one_shape", [1], np.int64)])
    distances = g.op("Reshape", [g.op("Where", [unknown, infinity, distance]), g.const("scales_shape", [len(scales)], np.int64)])
    # Spatial novelty: the newest value outside the range seen so far ([0, 1]) by more than the tolerance.
    excess = g.op("Sub", [g.op("Abs", [g.op("Sub", [newest, g.const("middle", [0.5])])]), g.const("half_and_tolerance", [0.5 + tolerance])])
    spatial = g.op("Where", [g.op("Greater", [excess, zero]), g.op("Min", [g.op("Add", [excess, g.const("spatial_floor", [spatial_floor])]), one]), zero])
    score = g.op("Max", [temporal, spatial])
    if extra_work:
        # Test models only: a deliberately slow graph (repeated matrix products folded into the score as 0 x result).
        rng = np.random.default_rng(7)
        x = g.op("Reshape", [g.op("Tile", [flat, g.const("tiles", [extra_work], np.int64)]), g.const("square", [-1, extra_work], np.int64)])
        weight = g.const("weight", rng.standard_normal((extra_work, extra_work)).astype(np.float32) * 0.01)
        for _ in range(8):
            x = g.op("MatMul", [x, weight])
        noise = g.op("ReduceMean", [x], axes=[0, 1], keepdims=0)
        score = g.op("Add", [score, g.op("Mul", [g.op("Reshape", [noise, g.const("flat1", [1], np.int64)]), zero])])
    if fail_above is not None:
        # Test models only: fails at run time (index out of range) when the newest value exceeds fail_above.
        index = g.op("Cast", [g.op("Greater", [newest, g.const("fail_at", [fail_above])])], to=TensorProto.INT64)
        score = g.op("Gather", [score, index], axis=0)
    g.nodes.append(helper.make_node("Identity", [score], ["score"], name="output_score"))
    g.nodes.append(helper.make_node("Identity", [distances], ["distance"], name="output_distance"))
    return helper.make_graph(
        g.nodes, "knn_novelty",
        [helper.make_tensor_value_info("history", TensorProto.FLOAT, [1, history]),
         helper.make_tensor_value_info("calibration", TensorProto.FLOAT, [len(scales), calibration]),
         helper.make_tensor_value_info("ceiling", TensorProto.FLOAT, [len(scales), 1])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, [1]),
         helper.make_tensor_value_info("distance", TensorProto.FLOAT, [len(scales)])],
        initializer=g.initializers)


def incompatible(history, calibration, scales):
    """Test model: the right names, but the history is float64 (refused at load)."""
    g = Graph()
    cast = g.op("Cast", ["history"], to=TensorProto.FLOAT)
    g.nodes.append(helper.make_node("ReduceMean", [cast], ["score"], axes=[1], keepdims=0))
    g.nodes.append(helper.make_node("ReduceMean", ["calibration"], ["distance"], axes=[1], keepdims=0))
    return helper.make_graph(
        g.nodes, "incompatible",
        [helper.make_tensor_value_info("history", TensorProto.DOUBLE, [1, history]),
         helper.make_tensor_value_info("calibration", TensorProto.FLOAT, [scales, calibration]),
         helper.make_tensor_value_info("ceiling", TensorProto.FLOAT, [scales, 1])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, [1]),
         helper.make_tensor_value_info("distance", TensorProto.FLOAT, [scales])])


def save(graph, path, metadata):
    model = helper.make_model(graph, producer_name="fogline-models", producer_version="1",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key = key
        entry.value = value
    onnx.checker.check_model(model)
    onnx.shape_inference.infer_shapes(model, strict_mode=True)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(model.SerializeToString(deterministic=True))
    print(f"{path}: {os.path.getsize(path)} bytes")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--definitions", required=True, help="models.json: the models to build")
    parser.add_argument("--out", required=True, help="where the component's models go")
    parser.add_argument("--test-out", help="where the tests' bad models go")
    args = parser.parse_args()
    with open(args.definitions) as f:
        definitions = json.load(f)
    for name, d in definitions["models"].items():
        shape = d["shape"]
        p = d["parameters"]
        graph = knn_novelty(shape["history"], shape["calibration"], p["scales"], p["neighbours"],
                            p["spatialTolerance"], p["rankTop"], p["spatialFloor"])
        metadata = {"fogline.model": "knn-novelty", "fogline.name": name,
                    "fogline.parameters": json.dumps(p, sort_keys=True), "fogline.description": d["description"]}
        save(graph, os.path.join(args.out, name + ".onnx"), metadata)
    if args.test_out:
        base = definitions["models"][definitions["testBase"]]
        h, c = base["shape"]["history"], base["shape"]["calibration"]
        p = base["parameters"]
        common = (p["scales"], p["neighbours"], p["spatialTolerance"], p["rankTop"], p["spatialFloor"])
        save(knn_novelty(h, c, *common, extra_work=256), os.path.join(args.test_out, "slow.onnx"),
             {"fogline.model": "knn-novelty", "fogline.name": "slow", "fogline.description": "test: eight 256x256 matrix products per reading"})
        save(knn_novelty(h, c, *common, fail_above=1.5), os.path.join(args.test_out, "fails-on-high-values.onnx"),
             {"fogline.model": "knn-novelty", "fogline.name": "fails-on-high-values", "fogline.description": "test: run-time error when a value is 1.5 x the range"})
        save(incompatible(h, c, len(p["scales"])), os.path.join(args.test_out, "incompatible-double-history.onnx"),
             {"fogline.model": "incompatible", "fogline.description": "test: history input is float64"})
        # An older, weaker model to promote the shipped one over: one time scale of 8 readings.
        save(knn_novelty(h, c, [8], p["neighbours"], p["spatialTolerance"], p["rankTop"], p["spatialFloor"]), os.path.join(args.test_out, "single-scale-8.onnx"),
             {"fogline.model": "knn-novelty", "fogline.name": "single-scale-8", "fogline.description": "test: one time scale of 8 readings"})
        # A noisy candidate: a negative spatial tolerance makes every value in the top third of the range an anomaly.
        save(knn_novelty(h, c, p["scales"], p["neighbours"], -0.3, p["rankTop"], p["spatialFloor"]), os.path.join(args.test_out, "noisy.onnx"),
             {"fogline.model": "knn-novelty", "fogline.name": "noisy", "fogline.description": "test: spatial tolerance -0.3"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
