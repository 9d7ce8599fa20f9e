#!/usr/bin/env python3
"""Writes the options (key -> default) a profile's GET /sdapi/v1/options serves, read from the upstream sources.

Usage: webui_options.py OUT.json WEBUI_GITDIR WEBUI_COMMIT [CN_GITDIR CN_COMMIT]
  WEBUI_GITDIR: a clone holding AUTOMATIC1111/stable-diffusion-webui's tags (the fork avilaops/stable-diffusion-webui
  has them); CN_GITDIR: Mikubill/sd-webui-controlnet.

Nothing is run: every `"key": OptionInfo(default, ...)` entry of a dict literal and every
`opts.add_option("key", OptionInfo(default, ...))` call in the files below is parsed with `ast`; OptionHTML/OptionDiv
entries are do_not_save (modules/options.py OptionHTML) and never in opts.data, so they are left out. Defaults that
are expressions are resolved by RESOLVED below (each with the reason) or the run fails.
"""
import ast
import json
import subprocess
import sys

WEBUI_FILES = [
    "modules/shared_options.py",
    "modules/processing_scripts/comments.py",
    "extensions-builtin/Lora/scripts/lora_script.py",
    "extensions-builtin/canvas-zoom-and-pan/scripts/hotkey_config.py",
    "extensions-builtin/extra-options-section/scripts/extra_options_section.py",
    "extensions-builtin/hypertile/scripts/hypertile_script.py",
    "extensions-builtin/LDSR/scripts/ldsr_model.py",
    "extensions-builtin/ScuNET/scripts/scunet_model.py",
    "extensions-builtin/SwinIR/scripts/swinir_model.py",
]
CN_FILES = ["scripts/controlnet.py"]
# SD.Next (vladmandic/sdnext) registers its options in modules/shared.py; used when shared_options.py is absent.
SDNEXT_FILES = ["modules/shared.py"]

# Defaults written as expressions upstream, with the value they have on the mock's box.
# SD.Next's defaults for a CUDA box with more than 8 GB (modules/shared.py get_default_modes), native (diffusers) backend,
# on Linux, no --use-openvino, --lowvram or --medvram; models_path and data_path relative to the app folder.
RESOLVED_SDNEXT = {
    "sd_model_checkpoint": (None, "default_checkpoint: the first checkpoint title (the mock sets it)"),
    "diffusers_offload_mode": ("balanced", "startup_offload_mode: get_default_modes, GPU > 8 GB"),
    "diffusers_offload_min_gpu_memory": (0.25, "startup_diffusers_offload_min_gpu_memory: get_default_modes, GPU > 8 GB"),
    "cross_attention_optimization": ("Scaled-Dot-Product", "startup_cross_attention: get_default_modes, cuda"),
    "sdp_options": (["Flash attention", "Memory attention", "Math attention"], "startup_sdp_options: get_default_modes, not zluda"),
    "onnx_execution_provider": ("CUDAExecutionProvider", "get_default_execution_provider() on cuda"),
    "directml_memory_provider": ("None", "modules/dml/__init__.py:9 default_memory_provider off Windows"),
    "hfcache_dir": ("/root/.cache/huggingface/hub", "default_hfcache_dir: ~/.cache/huggingface/hub, SD_HFCACHEDIR unset"),
    "diffusers_vae_tiling": (False, "cmd_opts.lowvram or cmd_opts.medvram, both unset"),
    "taesd_variant": ("TAESD 1.3 Mocha Croissant", "sd_taesd_items()[0]: modules/sd_vae_taesd.py:15"),
    "interrogate_clip_mode": ("best", "caption_types[0]: modules/interrogate/openclip.py:25"),
    "interrogate_blip_model": ("blip-base", "list(caption_models)[0]: modules/interrogate/openclip.py:17"),
    "interrogate_vlm_model": ("Microsoft Florence 2 Base", "list(vlm_models)[0]: modules/interrogate/vqa.py:16"),
    "interrogate_vlm_prompt": ("<MORE_DETAILED_CAPTION>", "vlm_prompts[2]: modules/interrogate/vqa.py:50"),
    "lora_legacy": (False, "not native, with the diffusers backend"),
}

RESOLVED = {
    "enable_console_prompts": (False, "shared.cmd_opts.enable_console_prompts: the flag's default (--enable-console-prompts unset)"),
    "control_net_detectedmap_dir": ("detected_maps", "global_state.default_detectedmap_dir = os.path.join('detected_maps')"),
}
DEFAULT_OUTPUT_DIR = "outputs"  # modules/paths_internal.py: data_path/outputs, relative to the WebUI's folder


UNRESOLVED = []
SDNEXT = [False]


def show(gitdir, commit, path):
    r = subprocess.run(["git", "-C", gitdir, "show", f"{commit}:{path}"], capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else None


def call_name(node):
    f = node.func
    return f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")


def option_call(node):
    """The OptionInfo/OptionHTML/OptionDiv call at the root of a chain like OptionInfo(...).info(...).needs_restart()."""
    while isinstance(node, ast.Call):
        if call_name(node) in ("OptionInfo", "OptionHTML", "OptionDiv"):
            return node
        if isinstance(node.func, ast.Attribute):
            node = node.func.value
        else:
            return None
    return None


def default_of(call, source, key):
    if call_name(call) != "OptionInfo":
        return "do_not_save", None
    arg = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "default"), None)
    if arg is None:
        return "ok", None
    try:
        return "ok", ast.literal_eval(arg)
    except ValueError:
        pass
    text = ast.get_source_segment(source, arg)
    # SD.Next: `X if not cmd_opts.use_openvino else Y`, `X if sys.platform != "darwin" else Y`: the flag is off, Linux
    if isinstance(arg, ast.IfExp) and ("cmd_opts.use_openvino" in text or "sys.platform" in text):
        return "ok", ast.literal_eval(arg.body)
    for base, prefix in (("paths.models_path", ["models"]), ("paths.data_path", [])):
        if text.startswith(f"os.path.join({base},"):
            return "ok", "/".join([*prefix, *(ast.literal_eval(a) for a in arg.args[1:])])
    # util.truncate_path(p) is p relative to the working directory, the WebUI's folder here
    if text.startswith("util.truncate_path(") and arg.args:
        arg = arg.args[0]
        text = ast.get_source_segment(source, arg)
    # os.path.join(default_output_dir, "x") / os.path.join(default_output_dir, "x", "y")
    # os.path.join(default_output_dir | data_path, "x", ...): the WebUI runs in its data folder, so these are relative
    for base, prefix in (("default_output_dir", [DEFAULT_OUTPUT_DIR]), ("data_path", [])):
        if text.startswith(f"os.path.join({base},"):
            parts = [ast.literal_eval(a) for a in arg.args[1:]]
            return "ok", "/".join([*prefix, *parts])
    table = RESOLVED_SDNEXT if SDNEXT[0] else RESOLVED
    if key in table:
        return "ok", table[key][0]
    UNRESOLVED.append(f"{key}: {text}")
    return "ok", None


def restrictions(call):
    restrict_api = any(k.arg == "restrict_api" and ast.literal_eval(k.value) for k in call.keywords)
    hidden = False
    comp_args = call.args[3] if len(call.args) > 3 else next((k.value for k in call.keywords if k.arg == "component_args"), None)
    if isinstance(comp_args, ast.Dict):
        for k, v in zip(comp_args.keys, comp_args.values):
            if isinstance(k, ast.Constant) and k.value == "visible" and isinstance(v, ast.Constant) and v.value is False:
                hidden = True
    return restrict_api, hidden


def options_in(source, path, repo):
    found = []
    for node in ast.walk(ast.parse(source)):
        pairs = []
        if isinstance(node, ast.Dict):
            pairs = [(k, v) for k, v in zip(node.keys, node.values) if isinstance(k, ast.Constant) and isinstance(k.value, str)]
        elif isinstance(node, ast.Call) and call_name(node) == "add_option" and len(node.args) == 2:
            pairs = [(node.args[0], node.args[1])]
        for k, v in pairs:
            call = option_call(v)
            if call is None:
                continue
            status, default = default_of(call, source, k.value)
            if status == "do_not_save":
                continue
            restrict_api, hidden = restrictions(call)
            found.append({"key": k.value, "default": default, "restrict_api": restrict_api, "hidden": hidden,
                          "source": f"{repo}:{path}:{k.lineno}"})
    return sorted(found, key=lambda o: int(o["source"].rsplit(":", 1)[1]))


def main(out, webui_git, webui_commit, cn_git=None, cn_commit=None):
    options = {}
    sdnext = show(webui_git, webui_commit, "modules/shared_options.py") is None
    SDNEXT[0] = sdnext
    webui_name = ("vladmandic/sdnext@" if sdnext else "AUTOMATIC1111/stable-diffusion-webui@") + webui_commit[:7]
    sources = [(webui_name, webui_git, webui_commit, SDNEXT_FILES if sdnext else WEBUI_FILES)]
    if cn_git:
        sources.append(("Mikubill/sd-webui-controlnet@" + cn_commit[:8], cn_git, cn_commit, CN_FILES))
    for repo, git, commit, paths in sources:
        for path in paths:
            source = show(git, commit, path)
            if source is None:
                continue
            for o in options_in(source, path, repo):
                if sdnext:
                    # SD.Next's Options.set/__setattr__ check neither restrict_api nor visibility (modules/shared.py:993-1043)
                    o["restrict_api"] = o["hidden"] = False
                options.setdefault(o.pop("key"), o)
    if UNRESOLVED:
        raise SystemExit("unresolved defaults:\n" + "\n".join(UNRESOLVED))
    json.dump({
        "generated_by": "src/Miaoya.MockWebUi/Profiles/tools/webui_options.py",
        "webui": webui_name.split("@")[0] + "@" + webui_commit,
        "controlnet": f"Mikubill/sd-webui-controlnet@{cn_commit}" if cn_git else None,
        "resolved_by_hand": {k: v[1] for k, v in (RESOLVED_SDNEXT if sdnext else RESOLVED).items() if k in options},
        "options": options,
    }, open(out, "w"), indent=1)
    print(f"{len(options)} options -> {out}")


if __name__ == "__main__":
    main(*sys.argv[1:])
