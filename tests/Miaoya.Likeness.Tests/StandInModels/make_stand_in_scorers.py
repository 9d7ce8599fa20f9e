#!/usr/bin/python3
"""Writes a tiny stand-in for OpenCV Zoo's face_recognition_sface_2021dec.onnx (SFace).

Same input/output convention as the real model (input "data" float32 [1,3,112,112]: the aligned face, RGB, raw 0-255
values; output "fc1" float32 [1,128]), but a trivial graph that is NOT SFace and knows nothing about faces:

    fc1 = flatten(avgpool28(data) - mean(avgpool28(data))) @ W

avgpool28 averages the 112x112 crop over 28x28 blocks (a 4x4 grid per channel, 48 values), the per-image mean of
those is subtracted (so a uniform brightness shift does not change the result, and a contrast change only scales it),
and W is a fixed random projection to 128 values (numpy RandomState(17), standard normal / sqrt(48)), which keeps
cosines roughly as they are (Johnson-Lindenstrauss). So cosine similarity of two embeddings ~ the correlation of the
two coarse, mean-free crops: aligned crops of the same photo (shifted, brighter, cropped) score close to 1, a
mirrored copy or one pasted onto another photo lower (0.77-0.86 for the astronaut), another person or a face with
its features moved much lower (0.21 for camera.png's man, 0.46 for the astronaut with her face flipped upside down).
A grid of 8x8 separated these less well (mirror 0.64 against 0.34 for the altered face), because it is more sensitive
to BlazeFace's landmark jitter in the alignment.

Run:  /usr/bin/python3 make_stand_in_scorers.py [out_dir]   (Debian python3-onnx 1.12, numpy; ir_version 8, opset 13)
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, checker, helper, numpy_helper, shape_inference

IR_VERSION = 8
OPSET = 13
GRID = 4
POOL = 112 // GRID
FEATURES = 3 * GRID * GRID
SEED = 17


def save(model, path):
    model.ir_version = IR_VERSION
    checker.check_model(model, full_check=True)
    shape_inference.infer_shapes(model, strict_mode=True)
    onnx.save(model, path)
    print(f"{path}: {os.path.getsize(path)} bytes")


def sface(path):
    w = (np.random.RandomState(SEED).standard_normal((FEATURES, 128)) / np.sqrt(FEATURES)).astype(np.float32)
    inits = [
        numpy_helper.from_array(w, "projection"),
    ]
    nodes = [
        helper.make_node("AveragePool", ["data"], ["pooled"], kernel_shape=[POOL, POOL], strides=[POOL, POOL]),
        helper.make_node("ReduceMean", ["pooled"], ["mean"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Sub", ["pooled", "mean"], ["centred"]),
        helper.make_node("Flatten", ["centred"], ["flat"], axis=1),
        helper.make_node("MatMul", ["flat", "projection"], ["fc1"]),
    ]
    graph = helper.make_graph(
        nodes, "sface_stand_in",
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, [1, 3, 112, 112])],
        [helper.make_tensor_value_info("fc1", TensorProto.FLOAT, [1, 128])],
        initializer=inits)
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="miaoya-stand-in"), path)


def wrong_signature(path):
    """A model that is not a face recogniser: data [1,3,112,112] -> fc1 [1,64] (for the signature-mismatch test)."""
    nodes = [
        helper.make_node("AveragePool", ["data"], ["pooled"], kernel_shape=[14, 14], strides=[14, 14]),
        helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
        helper.make_node("Slice", ["flat", "starts", "ends", "axes"], ["fc1"]),
    ]
    inits = [
        numpy_helper.from_array(np.array([0], np.int64), "starts"),
        numpy_helper.from_array(np.array([64], np.int64), "ends"),
        numpy_helper.from_array(np.array([1], np.int64), "axes"),
    ]
    graph = helper.make_graph(
        nodes, "not_a_scorer",
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, [1, 3, 112, 112])],
        [helper.make_tensor_value_info("fc1", TensorProto.FLOAT, [1, 64])],
        initializer=inits)
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="miaoya-stand-in"), path)


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out, exist_ok=True)
    sface(os.path.join(out, "face_recognition_sface_2021dec.onnx"))
    wrong_signature(os.path.join(out, "not_a_scorer_64d.onnx"))
