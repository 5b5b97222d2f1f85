"""Stage: export a run's networks as a model pack: ONNX files, parity vectors, pack.json.

  .venv/bin/python -m phototype_train export --config faces64 --pack faces-64 [--force]

Writes models/packs/NAME/ (never over an existing pack without --force), validates pack.json
against models/pack.schema.json, and, where Node and the repo's node_modules are installed,
checks that ONNX Runtime (onnxruntime-node, the server's runtime) matches PyTorch.
"""
import argparse
import hashlib
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import jsonschema
import torch
import torch.nn as nn

from phototype_train.data.classes import CLASSES, SIDE_PAIRS
from phototype_train.common import REPO, UserError, run_dir, run_main, set_threads
from phototype_train.config import Config
from phototype_train.networks.proxy import PartProxyAssign
from phototype_train.stages.proxy import load_proxy
from phototype_train.sampling import latents, load_generator
from phototype_train.stages.encoder import load_encoder
from phototype_train.stages.mapper import KINDS, load_mapper
from phototype_train.stages.parser import load_parser
from phototype_train.stages.rearranger import load_rearranger

OPSET = 17
MAX_FILE = 16 * 1024 * 1024
PARITY_TOLERANCE = 1e-3
# A k-means proxy's photo layout route, chosen by npm run bench:photo on faces-64 and faces-128 (photo_layout).
KMEANS_PHOTO_LAYOUT = "parser"
LICENSE_TEXT = (
    "Trained from scratch on celebamask-mini, a subset of CelebAMask-HQ (Lee et al., CVPR 2020), whose images come "
    "from CelebA-HQ / CelebA. CelebAMask-HQ is available for non-commercial research and educational purposes only; "
    "these weights inherit those terms. Do not use them or their outputs commercially."
)
CLASS_LABELS = {
    "background": "Background", "skin": "Skin", "nose": "Nose", "eye_g": "Glasses", "l_eye": "Left eye (image right)",
    "r_eye": "Right eye (image left)", "l_brow": "Left brow (image right)", "r_brow": "Right brow (image left)",
    "l_ear": "Left ear (image right)", "r_ear": "Right ear (image left)", "mouth": "Mouth (inside)", "u_lip": "Upper lip",
    "l_lip": "Lower lip", "hair": "Hair", "hat": "Hat", "ear_r": "Earring", "neck_l": "Necklace", "neck": "Neck", "cloth": "Clothes",
}


class Mapping(nn.Module):
    def __init__(self, G):
        super().__init__()
        self.G = G

    def forward(self, z, psi):
        return self.G.mapping(z, psi)


class G1(nn.Module):
    def __init__(self, G):
        super().__init__()
        self.G = G

    def forward(self, w):
        return self.G.g1(w)


class Parser(nn.Module):
    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, image):
        return self.p(image)


class G2(nn.Module):
    def __init__(self, G):
        super().__init__()
        self.G = G

    def forward(self, features, style):
        return self.G.g2(features, style).clamp(-1, 1)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def spec(name, t: torch.Tensor, dynamic_batch=True):
    shape = ["batch"] + list(t.shape[1:]) if dynamic_batch else list(t.shape)
    return {"name": name, "type": "int64" if t.dtype == torch.int64 else "float32", "shape": shape}


class ParityWriter:
    """Reference inputs and PyTorch outputs, raw little-endian, indexed in pack.json."""

    def __init__(self):
        self.buf, self.cases = bytearray(), {}

    def add(self, network, io, name, t: torch.Tensor):
        t = t.detach().contiguous()
        t = t.to(torch.int64) if t.dtype == torch.int64 else t.to(torch.float32)
        self.cases.setdefault(network, []).append({"io": io, "name": name, "type": "int64" if t.dtype == torch.int64 else "float32",
                                                   "dims": list(t.shape), "offset": len(self.buf)})
        self.buf += t.numpy().astype("<i8" if t.dtype == torch.int64 else "<f4").tobytes()


def export_network(module, args, in_names, out_names, path: Path, parity: ParityWriter, key: str):
    module.eval()
    with torch.no_grad():
        outs = module(*args)
    outs = outs if isinstance(outs, tuple) else (outs,)
    axes = {n: {0: "batch"} for n in in_names + out_names}
    torch.onnx.export(module, tuple(args), str(path), input_names=in_names, output_names=out_names, dynamic_axes=axes,
                      opset_version=OPSET, do_constant_folding=True,
                      dynamo=False)  # the TorchScript exporter: dynamic_axes as the packs use them, no onnxscript
    size = path.stat().st_size
    if size > MAX_FILE:
        raise UserError(f"{path.name} is {size / 2**20:.1f} MiB, over the 16 MiB a pack file may be: shrink the network")
    for n, a in zip(in_names, args):
        parity.add(key, "input", n, a)
    for n, o in zip(out_names, outs):
        parity.add(key, "output", n, o)
    return {"file": path.name, "sha256": sha256(path), "bytes": size,
            "inputs": [spec(n, a) for n, a in zip(in_names, args)], "outputs": [spec(n, o) for n, o in zip(out_names, outs)]}


def photo_layout(proxy, nets: dict) -> str | None:
    """How the server reads a photo's layout (pack.json photoLayout): "parser" (parser -> mapper.mask)
    wherever the pack has both. A part-aware proxy's mask mapper follows the drawn parts exactly, so a
    photo's parse names its proxy parts. For k-means proxies it was measured (npm run bench:photo,
    docs/ARCHITECTURE.md, Photo layout route): on faces-64 and faces-128 the parser route's proxy is
    purer against the test/ masks, agrees between photos as samples' own proxies do, and gives
    exemplars more of the photo's layout. Without a parser: the encoder's proxy (None: neither)."""
    if "parser" in nets and "mapper.mask" in nets:
        return "parser" if isinstance(proxy, PartProxyAssign) else KMEANS_PHOTO_LAYOUT
    return "encoder" if "encoder" in nets else None


def metric(name, value, description, command):
    return {"name": name, "value": float(value), "description": description, "command": command}


def build_pack(cfg, run: Path, out: Path, name: str, version: str):
    G, gst = load_generator(run / "generator.pt")
    proxy, pst = load_proxy(run / "proxy.pt")
    R, rst = load_rearranger(run / "rearranger.pt")
    mapper, mst = load_mapper(run / "mapper.mask.pt")
    psi = float(cfg.gan.truncation)
    z = latents(2, G.z_dim, 4242)
    psi_t = torch.full((2, 1), psi)
    with torch.no_grad():
        w = G.mapping(z, psi_t)
        f, s = G.g1(w)
        p = proxy(f)
        p_tgt = p.flip(0)
        f2 = R(f, p, p_tgt)
        photo = G.g2(f, s).clamp(-1, 1)
        cond = torch.zeros(2, G.res, G.res, dtype=torch.int64)
        cond[:, G.res // 4: 3 * G.res // 4, G.res // 4: 3 * G.res // 4] = 1
        strokes = torch.zeros(2, 1, G.res, G.res)
        strokes[:, :, G.res // 4, G.res // 4: 3 * G.res // 4] = 1
        scribble = torch.full((2, G.res, G.res), 255, dtype=torch.int64)
        scribble[:, G.res // 2, G.res // 4: 3 * G.res // 4] = 1
    parity = ParityWriter()
    nets = {
        "mapping": export_network(Mapping(G), [z, psi_t], ["z", "truncation"], ["w"], out / "mapping.onnx", parity, "mapping"),
        "g1": export_network(G1(G), [w], ["w"], ["features", "style"], out / "g1.onnx", parity, "g1"),
        "proxy": export_network(proxy, [f], ["features"], ["proxy"], out / "proxy.onnx", parity, "proxy"),
        "rearranger": export_network(R, [f, p, p_tgt], ["features", "proxy_src", "proxy_tgt"], ["features_out"],
                                     out / "rearranger.onnx", parity, "rearranger"),
        "g2": export_network(G2(G), [f2, s], ["features", "style"], ["image"], out / "g2.onnx", parity, "g2"),
    }
    roles = {"mapping": "seed latent z -> style vector w (with truncation)", "g1": "w -> split feature map F and the style g2 keeps",
             "proxy": "F -> proxy mask (nearest k-means centroid per pixel)", "rearranger": "F, source proxy, target proxy -> F arranged like the target",
             "g2": "F, style -> RGB image in [-1, 1]", "mapper.mask": "19-class face mask (class ids) -> proxy-mask logits",
             "mapper.sketch": "black-stroke sketch (1 = stroke) -> proxy-mask logits",
             "mapper.scribble": "coloured class strokes (class ids, 255 = nothing drawn) -> proxy-mask logits",
             "mapper.edges": "edge map of a photo (Canny, 1 = edge) -> proxy-mask logits",
             "encoder": "photo in [-1, 1] -> F and style (inversion)", "parser": "photo in [-1, 1] -> 19 face-part logits"}
    descriptions = {"mask": "flat shapes coloured by face part (19 classes)", "sketch": "black pen strokes on white",
                    "scribble": "a few strokes per face part in its class colour", "edges": "an edge map of a photo (classical Canny detector)"}
    conditions, mapper_states = [], {}
    cond_inputs = {"mask": cond, "sketch": strokes, "scribble": scribble, "edges": strokes}
    for kind in KINDS:
        path = run / f"mapper.{kind}.pt"
        if not path.is_file():
            continue
        m, st = (mapper, mst) if kind == "mask" else load_mapper(path)
        key = f"mapper.{kind}"
        nets[key] = export_network(m, [cond_inputs[kind]], ["condition"], ["proxy_logits"], out / f"{key}.onnx", parity, key)
        conditions.append({"kind": kind, "network": key, "description": descriptions[kind]})
        mapper_states[kind] = st
    if (run / "encoder.pt").is_file():
        E, est = load_encoder(run / "encoder.pt")
        nets["encoder"] = export_network(E, [photo], ["image"], ["features", "style"], out / "encoder.onnx", parity, "encoder")
    else:
        est = None
    if (run / "parser.pt").is_file():
        P, _ = load_parser(run / "parser.pt")
        nets["parser"] = export_network(Parser(P), [photo], ["image"], ["class_logits"], out / "parser.onnx", parity, "parser")
    for k, v in nets.items():
        v["role"] = roles[k]
    (out / "parity.bin").write_bytes(bytes(parity.buf))
    parity_entry = {"file": "parity.bin", "sha256": sha256(out / "parity.bin"), "bytes": len(parity.buf),
                    "tolerance": PARITY_TOLERANCE, "cases": parity.cases}

    cfgname = cfg.name
    pm, rm = pst.get("metrics") or {}, rst.get("metrics") or {}
    metrics = []
    if "cluster_purity" in pm:
        metrics.append(metric("cluster_purity", pm["cluster_purity"], f"share of pixels whose proxy cluster's majority parser label is their label, "
                              f"{pm['heldout_samples']} held-out samples (one-cluster baseline {pm['purity_one_cluster_baseline']})",
                              f"python -m phototype_train proxy --config {cfgname}"))
    if "agreement_cross" in rm:
        metrics.append(metric("rearranger_agreement", rm["agreement_cross"], f"proxy mask of rearranged features equal to the target's, "
                              f"{rm['heldout_pairs']} held-out pairs (without rearranging: {rm['agreement_no_rearrange']}; self: {rm['agreement_self']})",
                              f"python -m phototype_train rearranger --config {cfgname}"))
    if "appearance_kept" in rm:
        metrics.append(metric("rearranger_appearance_kept", rm["appearance_kept"], "1 - colour distance(source, rearranged) / "
                              "colour distance(source, other sample), per proxy region, held-out pairs: 1 = looks like the source",
                              f"python -m phototype_train rearranger --config {cfgname}"))
    for kind, st in mapper_states.items():
        m = st.get("metrics") or {}
        if "agreement_simplified" in m:
            cmd = f"python -m phototype_train mapper --config {cfgname} --kind {kind}"
            metrics.append(metric(f"mapper_{kind}_agreement_drawn", m["agreement_simplified"], f"mapper.{kind}'s proxy mask equal to the sample's "
                                  "own, from user-like conditions (simplified shapes / drawn strokes) of held-out generated samples", cmd))
            metrics.append(metric(f"mapper_{kind}_agreement_exact", m["agreement_exact"], "as above, from exact conditions", cmd))
    if est and est.get("metrics"):
        t = est["metrics"]["test"]
        cmd = f"python -m phototype_train encoder --config {cfgname}"
        metrics.append(metric("inversion_test_l1", t["l1"], "mean |photo - g2(encoder(photo))| over test/ photos, pixels in [-1, 1]", cmd))
        metrics.append(metric("inversion_test_psnr", t["psnr"], "PSNR (dB) of encoder reconstructions of test/ photos", cmd))
        if "refined_psnr" in t:
            metrics.append(metric("inversion_test_psnr_refined", t["refined_psnr"], f"PSNR (dB) after {t['refine_steps']} optimisation steps "
                                  f"per photo, on {t.get('refined_images', 'all')} of the test/ photos (Python only, not in the pack)", cmd))
    training = {
        "config": cfgname, "generator_arch": gst["gcfg"].get("arch", "stylegan2"), "generator_steps": gst["step"],
        "images_seen": gst["seen"], "generator_minutes": round(gst["seconds"] / 60, 1),
        "rearranger_steps": rst["step"], "mapper_steps": {k: st["step"] for k, st in mapper_states.items()},
        "encoder_steps": est["step"] if est else None,
        "data": "celebamask-mini train/ + unlabeled/ images for the generator; train/ masks for the face parser; test/ never",
        "exported": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "torch": torch.__version__, "opset": OPSET,
    }
    quality = cfg.quality or (f"{G.res} px faces from a generator trained {training['generator_minutes']} min "
                                       f"({training['images_seen']} images seen) on CPU: blurry, for trying the product and for tests.")
    manifest = {
        "schema": 1, "name": name, "version": version, "title": cfg.title or f"Faces {G.res} px", "quality": quality,
        "license": {"name": "CelebAMask-HQ terms: non-commercial research and education only", "commercialUse": False, "text": LICENSE_TEXT},
        "resolution": G.res, "latent": {"size": G.z_dim, "distribution": "normal"},
        "feature": {"channels": int(f.shape[1]), "height": int(f.shape[2]), "width": int(f.shape[3])},
        "style": {"size": int(s.shape[1])}, "proxy": {"k": proxy.k}, "truncation": float(cfg.gan.pack_truncation),
        **({"photoLayout": route} if (route := photo_layout(proxy, nets)) else {}),
        "classes": [{"id": i, "name": n, "label": CLASS_LABELS[n], "color": c.upper()} for i, (n, c) in enumerate(CLASSES)],
        "sidePairs": [{"label": label, "imageLeft": left, "imageRight": right} for label, left, right in SIDE_PAIRS],
        "conditions": conditions,
        "networks": nets, "parity": parity_entry, "metrics": metrics, "training": training,
    }
    validate_manifest(manifest)
    (out / "pack.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (out / "LICENSE.txt").write_text(LICENSE_TEXT + "\n")
    return manifest


def validate_manifest(manifest: dict):
    schema = json.loads((REPO / "models" / "pack.schema.json").read_text())
    try:
        jsonschema.validate(manifest, schema)
    except jsonschema.ValidationError as e:
        where = "/".join(str(p) for p in e.absolute_path) or "(top)"
        raise UserError(f"pack.json is invalid at {where}: {e.message}")


def check_parity_with_node(pack_dir: Path) -> dict | None:
    """Runs onnxruntime-node over the parity vectors; None where Node or node_modules is missing."""
    script = REPO / "scripts" / "check-parity.ts"
    tsx = REPO / "node_modules" / ".bin" / "tsx"
    if not (script.is_file() and tsx.is_file() and shutil.which("node")):
        return None
    r = subprocess.run([str(tsx), str(script), "--json", str(pack_dir)], capture_output=True, text=True, cwd=REPO)
    if r.returncode not in (0, 1):
        raise UserError(f"parity check could not run: {r.stderr.strip()[-500:]}")
    return json.loads(r.stdout)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="tiny")
    ap.add_argument("--run-dir")
    ap.add_argument("--pack", help="pack name (folder under --packs-dir); default: the config's pack_name")
    ap.add_argument("--packs-dir", default=str(REPO / "models" / "packs"))
    ap.add_argument("--version", default="0.1.0")
    ap.add_argument("--force", action="store_true", help="replace an existing pack of that name")
    args = ap.parse_args(argv)
    cfg = Config.load(args.config)
    set_threads()
    name = args.pack or cfg.pack_name or cfg.name
    dest = Path(args.packs_dir) / name
    if dest.exists() and not args.force:
        raise UserError(f"pack {dest} already exists; pass --force to replace it")
    run = run_dir(cfg, args.run_dir)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=dest.parent))
    try:
        manifest = build_pack(cfg, run, tmp, name, args.version)
        result = check_parity_with_node(tmp)
        if result is not None:
            if not result["ok"]:
                raise UserError(f"ONNX Runtime disagrees with PyTorch: {json.dumps(result['networks'])}")
            manifest["metrics"].append(metric("parity_max_error", result["maxError"],
                                              f"largest relative difference between onnxruntime-node and PyTorch over the parity vectors "
                                              f"(tolerance {PARITY_TOLERANCE})", f"npx tsx scripts/check-parity.ts models/packs/{name}"))
            (tmp / "pack.json").write_text(json.dumps(manifest, indent=2) + "\n")
        if dest.exists():
            shutil.rmtree(dest)
        tmp.rename(dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    total = sum(n["bytes"] for n in manifest["networks"].values())
    print(f"exported {dest}: {len(manifest['networks'])} networks, {total / 2**20:.1f} MiB"
          + ("" if result is None else f", parity max error {result['maxError']:.2e}"))


if __name__ == "__main__":
    run_main(main)
