"""A model pack as the engine serves it: pack.json's networks, each file checked against its
sha256, opened with the same ONNX Runtime options as the Node server's in-process sessions
(server/pipeline/runtime.ts), so both give the same bytes for the same inputs."""
import hashlib
import json
import os
from dataclasses import dataclass

import onnxruntime as ort


@dataclass
class Network:
    key: str
    sha256: str
    inputs: list  # names, pack.json order
    outputs: list
    session: ort.InferenceSession


def session_options(threads: int) -> ort.SessionOptions:
    """runtime.ts sessionOptions(): graph optimisation all, sequential, no spinning."""
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return so


def providers(preference: str) -> list:
    """CUDA where this onnxruntime build has it (onnxruntime-gpu) and it was not refused."""
    available = ort.get_available_providers()
    if preference != "cpu" and "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if preference == "cuda":
        raise RuntimeError(f"CUDA asked for, but this onnxruntime has only {available}")
    return ["CPUExecutionProvider"]


def sha256_of(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def open_pack(pack_dir: str, threads: int = 0, provider: str = "auto") -> tuple:
    """(manifest, {key: Network}); raises with a sentence when a file is missing or changed."""
    with open(os.path.join(pack_dir, "pack.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    threads = threads or os.cpu_count() or 1
    options = session_options(threads)
    chosen = providers(provider)
    networks = {}
    for key, net in manifest["networks"].items():
        path = os.path.join(pack_dir, net["file"])
        digest = sha256_of(path)
        if digest != net["sha256"]:
            raise RuntimeError(f"pack {manifest['name']}: {net['file']} has sha256 {digest[:12]}…, pack.json says {net['sha256'][:12]}…")
        session = ort.InferenceSession(path, options, providers=chosen)
        names = sorted(i.name for i in session.get_inputs())
        if names != sorted(i["name"] for i in net["inputs"]):
            raise RuntimeError(f"network {key} takes inputs {names}, pack.json says {[i['name'] for i in net['inputs']]}")
        networks[key] = Network(key, net["sha256"], [i["name"] for i in net["inputs"]], [o["name"] for o in net["outputs"]], session)
    return manifest, networks
