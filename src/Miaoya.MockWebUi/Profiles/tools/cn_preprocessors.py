#!/usr/bin/env python3
"""Writes the ControlNet preprocessor table the mock serves, read from sd-webui-controlnet's source at a commit.

Usage: cn_preprocessors.py GITDIR COMMIT OUT.json
  GITDIR: a clone of Mikubill/sd-webui-controlnet (e.g. a fetched bare mirror); COMMIT: 56cec5b (1.1.455) or 3d75bd08 (1.1.447).

Nothing is imported or run from the extension: its files are parsed with `ast` and only literal values are kept.
What is read (paths at the commit):
  scripts/supported_preprocessor.py   class defaults of Preprocessor and PreprocessorParameter, the sort key of
                                      get_sorted_preprocessors, and tag_to_filters' alias table
  scripts/enums.py                    ControlNetUnionControlType.all_tags (absent before 1.1.448: no union filter)
  scripts/preprocessor/*.py           Preprocessor subclasses (super().__init__(name=...), self.X = ...) and the
                                      add_supported_preprocessor(Class()) calls
  scripts/preprocessor/legacy/preprocessor_compiled.py  the legacy dict; legacy_preprocessors.py copies label, tags,
                                      priority, model_free, slider_1..3 and (only into .resolution, which the API never
                                      reads) the resolution slider, so the class default slider_resolution stays.
"""
import ast
import json
import subprocess
import sys

PARAM_DEFAULTS = {"label": "EMPTY_LABEL", "minimum": 0.0, "maximum": 1.0, "step": 0.01, "value": 0.5, "visible": True}
RESOLUTION = {"label": "Resolution", "minimum": 64, "maximum": 2048, "value": 512, "step": 8, "visible": True}


def show(gitdir, commit, path):
    return subprocess.run(["git", "-C", gitdir, "show", f"{commit}:{path}"], check=True, capture_output=True, text=True).stdout


def files(gitdir, commit, folder):
    out = subprocess.run(["git", "-C", gitdir, "ls-tree", "--name-only", f"{commit}:{folder}"], check=True, capture_output=True, text=True).stdout
    return [f for f in out.split() if f.endswith(".py") and f != "__init__.py"]


def param(call):
    p = dict(PARAM_DEFAULTS)
    for kw in call.keywords:
        p[kw.arg] = ast.literal_eval(kw.value)
    return p


def api_json(p):
    # PreprocessorParameter.api_json
    return {"name": p["label"], "value": p["value"], "min": p["minimum"], "max": p["maximum"], "step": p["step"]}


def new_style(source, path):
    """Preprocessor subclasses registered in a file: {name: fields}, in registration order."""
    tree = ast.parse(source)
    classes = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        init = next((f for f in node.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None)
        if init is None:
            continue
        d = {"line": node.lineno}
        for st in ast.walk(init):
            if isinstance(st, ast.Call) and isinstance(st.func, ast.Attribute) and st.func.attr == "__init__":
                for kw in st.keywords:
                    if kw.arg == "name":
                        d["name"] = ast.literal_eval(kw.value)
                if st.args:
                    d["name"] = ast.literal_eval(st.args[0])
            if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Attribute) \
                    and isinstance(st.targets[0].value, ast.Name) and st.targets[0].value.id == "self":
                attr = st.targets[0].attr
                if isinstance(st.value, ast.Call) and getattr(st.value.func, "id", "") == "PreprocessorParameter":
                    d[attr] = param(st.value)
                else:
                    try:
                        d[attr] = ast.literal_eval(st.value)
                    except ValueError:
                        pass
        classes[node.name] = d
    registered = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add_supported_preprocessor":
            cls = classes[node.args[0].func.id]
            registered.append({
                "name": cls["name"],
                "label": cls.get("_label") or cls["name"],
                "tags": cls.get("tags", []),
                "priority": cls.get("sorting_priority", 0),
                "model_free": cls.get("do_not_need_model", False),
                "returns_image": cls.get("returns_image", True),
                "requires_mask": cls.get("requires_mask", False),
                "sliders": [cls.get(k, RESOLUTION if k == "slider_resolution" else dict(PARAM_DEFAULTS, visible=False))
                            for k in ("slider_resolution", "slider_1", "slider_2", "slider_3")],
                "source": f"{path}:{cls['line']}",
            })
    return registered


def legacy(source, path):
    tree = ast.parse(source)
    table = next(n.value for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "legacy_preprocessors")
    result = []
    for key, value in zip(table.keys, table.values):
        name = ast.literal_eval(key)
        fields = {ast.literal_eval(k): v for k, v in zip(value.keys, value.values)}
        lit = lambda k, default=None: ast.literal_eval(fields[k]) if k in fields else default
        sliders = [RESOLUTION]
        for k in ("slider_1", "slider_2", "slider_3"):
            s = lit(k)
            sliders.append(dict(PARAM_DEFAULTS, visible=False) if s is None else dict(PARAM_DEFAULTS, **s, visible=True))
        result.append({
            "name": name, "label": lit("label"), "tags": lit("tags"), "priority": lit("priority"),
            "model_free": lit("model_free"), "returns_image": lit("returns_image", True),
            "requires_mask": lit("requires_mask", False), "sliders": sliders, "source": f"{path}:{key.lineno}",
        })
    return result


def literal_in_function(source, func):
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.name == func:
            for st in ast.walk(node):
                if isinstance(st, ast.Return) and isinstance(st.value, ast.List):
                    return ast.literal_eval(st.value), st.lineno
                if isinstance(st, ast.Assign) and isinstance(st.value, ast.Dict):
                    return ast.literal_eval(st.value), st.lineno
    return None, None


def main(gitdir, commit, out):
    folder = "scripts/preprocessor"
    pre = []
    for f in files(gitdir, commit, folder):
        pre += new_style(show(gitdir, commit, f"{folder}/{f}"), f"{folder}/{f}")
    legacy_path = f"{folder}/legacy/preprocessor_compiled.py"
    pre += legacy(show(gitdir, commit, legacy_path), legacy_path)
    labels = [p["label"] for p in pre]
    names = [p["name"] for p in pre]
    assert len(set(labels)) == len(labels) and len(set(names)) == len(names), "duplicate registration"
    # get_sorted_preprocessors: "none" first, then by zfill(8) priority + label, descending.
    rest = sorted((p for p in pre if p["label"] != "none"), key=lambda p: str(p["priority"]).zfill(8) + p["label"], reverse=True)
    ordered = [next(p for p in pre if p["label"] == "none")] + rest
    for p in ordered:
        p["sliders"] = [api_json(s) for s in p["sliders"] if s["visible"]]
    aliases, alias_line = literal_in_function(show(gitdir, commit, "scripts/supported_preprocessor.py"), "tag_to_filters")
    enums = show(gitdir, commit, "scripts/enums.py")
    union, union_line = literal_in_function(enums, "all_tags") if "ControlNetUnionControlType" in enums else (None, None)
    json.dump({
        "source": f"Mikubill/sd-webui-controlnet@{commit}",
        "generated_by": "src/Miaoya.MockWebUi/Profiles/tools/cn_preprocessors.py",
        "filter_aliases_source": f"scripts/supported_preprocessor.py:{alias_line}",
        "filter_aliases": aliases,
        "union_tags_source": None if union is None else f"scripts/enums.py:{union_line}",
        "union_tags": union or [],
        "preprocessors": ordered,
    }, open(out, "w"), indent=1)
    print(f"{len(ordered)} preprocessors -> {out}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
