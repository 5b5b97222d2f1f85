"""Measure proxy clusterings before choosing one: K and normalisation against what the proxy must do.

For each setting, k-means on F of fitting samples, then on held-out samples (labelled by the
run's own face parser, never the evaluation parser): part purity, H(cluster), H(cluster | part),
H(cluster | brightness tertile), H(part | cluster), and how often a target layout asks for a
cluster its source sample lacks. Writes runs/<config>/proxy_study.json and prints a table.

  .venv/bin/python -m phototype_train study proxy-study --config faces128 --ks 8 12 16 20 24
"""
import argparse
import json
import time

from phototype_train.common import run_dir, run_main, set_threads
from phototype_train.config import Config
from phototype_train.stages.proxy import fit_features, heldout, measure_purity
from phototype_train.sampling import latents, load_generator, synthesize
from phototype_train.stages.parser import load_parser


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="tiny")
    ap.add_argument("--run-dir")
    ap.add_argument("--ks", type=int, nargs="+", default=[8, 12, 16, 20, 24])
    ap.add_argument("--normalise", nargs="+", default=["global", "sample"])
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--pixels", type=int, default=100_000)
    args = ap.parse_args(argv)
    cfg = Config.load(args.config)
    set_threads()
    run = run_dir(cfg, args.run_dir)
    G, gst = load_generator(run / "generator.pt")
    parser, _ = load_parser(run / "parser.pt")
    psi = cfg.gan.truncation
    feats, _, _ = synthesize(G, latents(args.samples, G.z_dim, cfg.proxy.seed), psi, images=False)
    held = heldout(G, parser, psi)
    rows = []
    for norm in args.normalise:
        for k in args.ks:
            t0 = time.time()
            proxy = fit_features(feats, k, norm, cfg.proxy.seed, args.pixels, n_init=2)
            m = measure_purity(G, proxy, parser, psi, held=held)
            rows.append({"normalise": norm, "k": k, **m, "fit_seconds": round(time.time() - t0, 1)})
            r = rows[-1]
            print(f"{norm:6s} K={k:2d}  purity {r['cluster_purity']:.3f}  H {r['entropy_bits']:.2f}  H|part {r['entropy_given_part_bits']:.2f}  "
                  f"H|bright {r['entropy_given_brightness_bits']:.2f}  H(part|cl) {r['part_entropy_given_cluster_bits']:.2f}  "
                  f"missing {r['missing_cluster_rate']:.1%}  per sample {r['clusters_per_sample']:.1f}", flush=True)
    out = {"generator_images_seen": gst.get("seen"), "fit_samples": args.samples, "fit_pixels": args.pixels, "rows": rows}
    (run / "proxy_study.json").write_text(json.dumps(out, indent=2))
    print(f"wrote {run / 'proxy_study.json'}")


if __name__ == "__main__":
    run_main(main)
