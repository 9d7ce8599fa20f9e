#!/usr/bin/python3
"""Writes tiny stand-ins for insightface's det_10g.onnx, w600k_r50.onnx and inswapper_128.onnx.

They have the REAL input/output conventions (names where insightface's code relies on them, shapes, output
order) but trivial graphs, so the C# loading, decoding and maths can be tested without the real models.
They are NOT insightface's models and produce no real detections, embeddings or swaps.

Run:  /usr/bin/python3 make_stand_in_models.py [out_dir]   (Debian python3-onnx 1.12, numpy; ir_version 8, opset 13)
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, checker, helper, numpy_helper, shape_inference

IR_VERSION = 8
OPSET = 13


def save(model, path):
    model.ir_version = IR_VERSION
    checker.check_model(model, full_check=True)
    shape_inference.infer_shapes(model, strict_mode=True)
    onnx.save(model, path)
    print(f"{path}: {os.path.getsize(path)} bytes")


def const(name, array):
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.asarray(array), name + "_value"))


def det_10g(path):
    """SCRFD-like detector, input 1x3x640x640 in (p-127.5)/128, 9 outputs: scores x3, bboxes x3, kps x3 (strides 8/16/32).

    A bright square on black "is a face": for stride s, the anchor at (x*s, y*s) scores
    sigmoid(20*(inner-0.9)) * sigmoid(20*(0.4-outer)), where inner is the mean brightness (0..1) of the 2s x 2s window
    centred on the anchor and outer that of the 4s x 4s window. So a white square of side 2s centred on an anchor
    point (a multiple of s) scores ~1 at that anchor only (inner 1, outer 0.25). The box distances are 1 stride in
    every direction (the box is that 2s x 2s window) and the key points are constant offsets that put the five points
    where arcface_dst puts them inside the box (insightface python-package/insightface/utils/face_align.py:6-9).
    """
    nodes = [
        helper.make_node("ReduceMean", ["input.1"], ["grey_n"], axes=[1], keepdims=1),
        const("k_scale", np.array(128.0 / 255.0, np.float32)),
        const("k_shift", np.array(127.5 / 255.0, np.float32)),
        helper.make_node("Mul", ["grey_n", "k_scale"], ["grey_s"]),
        helper.make_node("Add", ["grey_s", "k_shift"], ["grey"]),  # brightness in [0, 1]
        const("k20", np.array(20.0, np.float32)),
        const("k09", np.array(0.9, np.float32)),
        const("k04", np.array(0.4, np.float32)),
    ]
    template = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]])
    kps_offsets = (2.0 * template / 112.0 - 1.0).astype(np.float32).reshape(1, 10)  # in stride units, box = ±1 stride
    scores, boxes, kps = [], [], []
    for s in (8, 16, 32):
        n = (640 // s) ** 2 * 2
        p = f"s{s}_"
        nodes += [
            helper.make_node("AveragePool", ["grey"], [p + "inner"], kernel_shape=[2 * s, 2 * s], strides=[s, s],
                             pads=[s, s, 0, 0], count_include_pad=1),
            helper.make_node("AveragePool", ["grey"], [p + "outer"], kernel_shape=[4 * s, 4 * s], strides=[s, s],
                             pads=[2 * s, 2 * s, s, s], count_include_pad=1),
            helper.make_node("Sub", [p + "inner", "k09"], [p + "a0"]),
            helper.make_node("Mul", [p + "a0", "k20"], [p + "a1"]),
            helper.make_node("Sigmoid", [p + "a1"], [p + "a"]),
            helper.make_node("Sub", ["k04", p + "outer"], [p + "b0"]),
            helper.make_node("Mul", [p + "b0", "k20"], [p + "b1"]),
            helper.make_node("Sigmoid", [p + "b1"], [p + "b"]),
            helper.make_node("Mul", [p + "a", p + "b"], [p + "cell"]),
            const(p + "shape_c1", np.array([-1, 1], np.int64)),
            helper.make_node("Reshape", [p + "cell", p + "shape_c1"], [p + "col"]),
            helper.make_node("Concat", [p + "col", p + "col"], [p + "two"], axis=1),  # 2 anchors per cell, consecutive
            helper.make_node("Reshape", [p + "two", p + "shape_c1"], [f"score_{s}"]),
            const(p + "box_unit", np.ones((1, 4), np.float32)),
            const(p + "box_shape", np.array([n, 4], np.int64)),
            helper.make_node("Expand", [p + "box_unit", p + "box_shape"], [f"bbox_{s}"]),
            const(p + "kps_unit", kps_offsets),
            const(p + "kps_shape", np.array([n, 10], np.int64)),
            helper.make_node("Expand", [p + "kps_unit", p + "kps_shape"], [f"kps_{s}"]),
        ]
        scores.append(helper.make_tensor_value_info(f"score_{s}", TensorProto.FLOAT, [n, 1]))
        boxes.append(helper.make_tensor_value_info(f"bbox_{s}", TensorProto.FLOAT, [n, 4]))
        kps.append(helper.make_tensor_value_info(f"kps_{s}", TensorProto.FLOAT, [n, 10]))
    graph = helper.make_graph(
        nodes, "det_10g_stand_in",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, 640, 640])],
        scores + boxes + kps)  # insightface reads outputs by position: scores, bboxes, kps (model_zoo/scrfd.py:160-174)
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="miaoya-stand-in"), path)


def w600k_r50(path):
    """ArcFace-like: input.1 [1,3,112,112] -> 683 [1,512]: AveragePool 16 -> Flatten(147) -> MatMul W + b, with W
    generated in the graph (sin of a range) so the file stays tiny."""
    nodes = [
        helper.make_node("AveragePool", ["input.1"], ["pooled"], kernel_shape=[16, 16], strides=[16, 16]),
        helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
        const("r_start", np.array(0.0, np.float32)),
        const("r_limit", np.array(147.0 * 512.0, np.float32)),
        const("r_delta", np.array(1.0, np.float32)),
        helper.make_node("Range", ["r_start", "r_limit", "r_delta"], ["r"]),
        const("r_freq", np.array(0.7071, np.float32)),
        helper.make_node("Mul", ["r", "r_freq"], ["r_scaled"]),
        helper.make_node("Sin", ["r_scaled"], ["w_flat"]),
        const("w_shape", np.array([147, 512], np.int64)),
        helper.make_node("Reshape", ["w_flat", "w_shape"], ["w"]),
        helper.make_node("MatMul", ["flat", "w"], ["mm"]),
        const("bias", np.full((1, 512), 0.05, np.float32)),
        helper.make_node("Add", ["mm", "bias"], ["683"]),
    ]
    graph = helper.make_graph(
        nodes, "w600k_r50_stand_in",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, 112, 112])],
        [helper.make_tensor_value_info("683", TensorProto.FLOAT, [1, 512])])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="miaoya-stand-in"), path)


def inswapper_128(path):
    """inswapper-like: target [1,3,128,128] (RGB p/255), source [1,512] (latent) -> output [1,3,128,128] in [0,1].

    output = clip(1 - boxblur3x3(target) + bias(source @ emap), 0, 1): the "swap" inverts the face (easy to see) and
    shifts its colour by a function of the latent. emap [512,512] is the graph's LAST initializer (insightface reads
    graph.initializer[-1], model_zoo/inswapper.py:18): an identity with markers emap[0,1] = 0.25 and emap[511,0] = -0.5.
    """
    w3 = np.zeros((512, 3), np.float32)
    w3[np.arange(512), np.arange(512) % 3] = 0.5
    emap = np.eye(512, dtype=np.float32)
    emap[0, 1] = 0.25
    emap[511, 0] = -0.5
    inits = [
        numpy_helper.from_array(np.full((3, 1, 3, 3), 1.0 / 9.0, np.float32), "blur_w"),
        numpy_helper.from_array(w3, "w3"),
        numpy_helper.from_array(np.array([1, 3, 1, 1], np.int64), "bias_shape"),
        numpy_helper.from_array(np.array(1.0, np.float32), "one"),
        numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
        numpy_helper.from_array(emap, "emap"),  # must stay last
    ]
    nodes = [
        helper.make_node("MatMul", ["source", "emap"], ["lat2"]),
        helper.make_node("MatMul", ["lat2", "w3"], ["rgb"]),
        helper.make_node("Reshape", ["rgb", "bias_shape"], ["bias"]),
        helper.make_node("Conv", ["target", "blur_w"], ["blur"], group=3, kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Sub", ["one", "blur"], ["inverted"]),
        helper.make_node("Add", ["inverted", "bias"], ["raw"]),
        helper.make_node("Clip", ["raw", "zero", "one"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes, "inswapper_128_stand_in",
        [helper.make_tensor_value_info("target", TensorProto.FLOAT, [1, 3, 128, 128]),
         helper.make_tensor_value_info("source", TensorProto.FLOAT, [1, 512])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, 128, 128])],
        initializer=inits)
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="miaoya-stand-in"), path)


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out, exist_ok=True)
    det_10g(os.path.join(out, "det_10g.onnx"))
    w600k_r50(os.path.join(out, "w600k_r50.onnx"))
    inswapper_128(os.path.join(out, "inswapper_128.onnx"))
