"""The MobileNetV2 feature extractor: parity with tfjs running the same nsfwjs model, batch independence, determinism."""
import json
import shutil
import subprocess

import numpy as np
import pytest
import torch

from phototype_train.evaluation import mobilenet_features as mf
from phototype_train.common import REPO, UserError

needs_weights = pytest.mark.skipif(not (mf.MODEL_DIR / "model.min.js").is_file(),
                                   reason="nsfwjs is not installed (npm install in the repo root)")
TSX = REPO / "node_modules" / ".bin" / "tsx"
LAYERS = {5: "block_5_add", 10: "block_10_project_BN"}  # Keras names of the tapped blocks' outputs


def fixed_inputs(n=3, size=mf.INPUT_SIZE):
    """Noise, smooth colour waves and hard-edged squares: NHWC float32 in [-1, 1]."""
    g = np.random.default_rng(0)
    yy, xx = np.mgrid[0:size, 0:size] / size
    waves = np.stack([np.sin(7 * xx + c) * np.cos(5 * yy - c) for c in range(3)], -1)
    squares = np.where(((xx * 8).astype(int) + (yy * 8).astype(int))[..., None] % 2 == 0, [0.9, -0.4, 0.1], [-1.0, 0.6, 1.0])
    imgs = [g.uniform(-1, 1, (size, size, 3)), waves, squares]
    return np.stack(imgs[:n]).astype(np.float32)


def test_js_literal_parser():
    text = 'x.exports={a:!0,b:[.5,-.25,1e-3,-0,224],"c:d":"e,f",g:null,h:{i:!1}},{}]'
    assert mf._js_literal(text, len("x.exports=")) == {"a": True, "b": [0.5, -0.25, 0.001, 0.0, 224], "c:d": "e,f",
                                                        "g": None, "h": {"i": False}}


def test_missing_nsfwjs_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="npm install"):
        mf.load_weights(tmp_path)


@needs_weights
@pytest.mark.skipif(shutil.which("node") is None or not TSX.is_file(), reason="node or tsx is not installed")
def test_matches_tfjs(tmp_path):
    x = fixed_inputs()
    (tmp_path / "in.f32").write_bytes(x.tobytes())
    cmd = [str(TSX), str(REPO / "scripts" / "mobilenet-activations.ts"), str(tmp_path / "in.f32"), str(len(x)),
           str(mf.INPUT_SIZE), str(tmp_path / "out"), *LAYERS.values()]
    r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    shapes = json.loads([l for l in r.stdout.splitlines() if l.startswith("{")][-1])

    with torch.no_grad():
        ours = mf.trunk()(torch.from_numpy(x).permute(0, 3, 1, 2))
    pooled = []
    for t, name in zip(ours, LAYERS.values()):
        ref = np.fromfile(tmp_path / "out" / f"{name}.f32", "<f4").reshape(shapes[name])
        got = t.permute(0, 2, 3, 1).numpy()
        assert got.shape == ref.shape
        err = np.abs(got - ref).max() / np.abs(ref).max()
        assert err < 1e-5, f"{name}: max error {err:.2e} of the largest activation"
        pooled.append(ref.mean((1, 2)))
    # features() at the network's size: no resizing, so it must equal tfjs's pooled activations
    ref = np.concatenate(pooled, 1)
    np.testing.assert_allclose(mf.features(torch.from_numpy(x).permute(0, 3, 1, 2)), ref, rtol=0, atol=1e-5 * np.abs(ref).max())


@needs_weights
def test_features_batch_independent_and_deterministic():
    g = torch.Generator().manual_seed(1)
    for size in (64, 256):  # upsampled and antialiased-downsampled paths
        x = torch.rand(4, 3, size, size, generator=g) * 2 - 1
        whole = mf.features(x)
        assert whole.shape == (4, mf.DIM) and np.isfinite(whole).all()
        assert np.array_equal(whole, mf.features(x))
        one_by_one = np.concatenate([mf.features(x[i:i + 1]) for i in range(len(x))])
        np.testing.assert_allclose(one_by_one, whole, rtol=1e-5, atol=1e-5 * np.abs(whole).max())
        np.testing.assert_allclose(mf.features(x, batch_size=3), whole, rtol=1e-5, atol=1e-5 * np.abs(whole).max())
    with pytest.raises(ValueError):
        mf.features(torch.zeros(1, 3, 8, 8, dtype=torch.uint8))
    assert f"D={mf.DIM}" in mf.describe()
