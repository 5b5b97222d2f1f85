"""Typed training configs: one dataclass per section of configs/<name>.json, every knob and its default.

A section is read from its JSON dict and refuses keys it does not know. It also keeps the dict it was
given (file, then command-line overrides): checkpoints store that dict, as they always have, so a
checkpoint made before a default was written down here still resumes.
"""
import json
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path

from phototype_train.common import UserError

CONFIG_DIR = Path(__file__).resolve().parent / "configs"


def load_config(name_or_path: str) -> dict:
    """configs/<name>.json, or a JSON file by path, as a plain dict (with "name" set to the file's stem)."""
    p = Path(name_or_path)
    if not p.suffix:
        p = CONFIG_DIR / f"{name_or_path}.json"
    if not p.is_file():
        names = ", ".join(sorted(q.stem for q in CONFIG_DIR.glob("*.json")))
        raise UserError(f"config '{name_or_path}' not found (known: {names})")
    try:
        cfg = json.loads(p.read_text())
    except json.JSONDecodeError as e:
        raise UserError(f"config {p} is not valid JSON: {e}")
    cfg.setdefault("name", p.stem)
    return cfg


class Section:
    """Base of the section dataclasses below."""

    @classmethod
    def from_dict(cls, given: dict, where: str):
        if not isinstance(given, dict):
            raise UserError(f"{where}: expected a JSON object of settings, not {json.dumps(given)}")
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(given) - set(known))
        if unknown:
            raise UserError(f"{where}: unknown setting {', '.join(unknown)} (known: {', '.join(known)})")
        missing = [f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING and f.name not in given]
        if missing:
            raise UserError(f"{where}: {', '.join(missing)} missing")
        section = cls(**given)
        section._given, section._where = dict(given), where
        return section

    def given(self) -> dict:
        """The settings as the file and the command line gave them: what checkpoints store."""
        return dict(self._given)

    def override(self, **changes):
        """A copy with these settings changed (checked like the file's)."""
        return type(self).from_dict({**self._given, **changes}, self._where)

    def with_sets(self, items: list[str], name: str):
        """--set KEY=JSON items applied: --set lr=0.001 --set kind='"layout"'."""
        changes = {}
        for item in items:
            key, _, value = item.partition("=")
            if key not in {f.name for f in fields(self)}:
                raise UserError(f"--set {key}: no such {name} setting")
            try:
                changes[key] = json.loads(value)
            except json.JSONDecodeError:
                raise UserError(f"--set {item}: the value is not JSON (a string needs quotes: {key}='\"text\"')")
        return self.override(**changes)


@dataclass
class DataConfig(Section):
    root: str  # the dataset folder, relative to the repository; PHOTOTYPE_DATA or --data win over it


@dataclass
class GeneratorConfig(Section):
    """The generator's architecture (networks/generator.py make_generator and the Discriminator read it as a dict: given())."""
    resolution: int
    split: int  # g1 stops (and F is read) at this size
    z_dim: int
    w_dim: int
    channels: dict  # {"4": 128, "8": 128, ...}: channels per resolution
    d_channels: dict
    arch: str = "stylegan2"  # or "fastgan", "fastgan-blend"
    mapping_layers: int | None = None  # stylegan2 only
    d_arch: str = "resnet"  # or "projected" (networks/projected_discriminator.py)
    d_selfsup: bool = False  # FastGAN's self-supervised decoders on D's 8x8 and 16x16 features
    noise: bool = False  # per-pixel noise in g2 (fixed maps in eval mode and ONNX)


@dataclass
class GanConfig(Section):
    """The generator stage's recipe (stages/generator.py)."""
    batch: int
    steps: int
    lr: float
    betas: list
    r1_gamma: float
    r1_every: int  # lazy R1: one step in r1_every
    ema_kimg: float
    diffaug: str  # DiffAugment policy, e.g. "color,translation,cutout"
    seed: int
    sample_every: int
    ckpt_every: int
    truncation: float = 1.0  # psi for every later stage's samples (and the monitor)
    serve_truncation: float | None = None  # pack.json's psi, chosen by `npm run eval --split train` arms; None: truncation
    g_lr: float | None = None  # None: lr
    g_betas: list | None = None  # None: betas
    d_lr: float | None = None  # None: lr
    d_betas: list | None = None  # None: betas
    monitor_every: int = 0  # images between monitor rows (FD, recall, structure diversity; monitor_generator.py); 0: none
    monitor_samples: int = 1000
    autocast: str | None = None  # "bf16" or "none"; None: bf16 on a GPU, none on the CPU
    channels_last: bool = False

    @property
    def pack_truncation(self) -> float:
        return self.truncation if self.serve_truncation is None else self.serve_truncation


@dataclass
class ParserConfig(Section):
    """stages/parser.py (sections parser and eval_parser)."""
    resolution: int
    base: int
    depth: int
    steps: int
    batch: int
    lr: float
    seed: int
    val: int = 50  # the last `val` train/ images are held out
    ckpt_every: int = 500
    autocast: str | None = None
    resolution_jitter: float = 0.0  # random down-and-up scaling (0: off)
    sides_by_position: bool = False  # l_/r_ parts relabelled by side of the face, as the server does (data/sides.py)


@dataclass
class ProxyConfig(Section):
    """stages/proxy.py."""
    k: int  # k-means clusters (kind "kmeans"; a part-aware proxy's count follows from its parts)
    samples: int
    fit_pixels: int
    seed: int
    normalise: str = "global"  # or "sample": standardise within each sample first
    kind: str = "kmeans"  # or "parts": a part head names each pixel's part, then k-means within parts
    head_hidden: int = 64  # parts: 0 = a linear head, N = a 3x3 conv of N channels first
    variants: list = field(default_factory=lambda: [[0.0, 1]])  # parts: [share floor, clusters], first match wins
    sides: str = "kept"  # parts: "merged" = l_/r_ eye, brow, ear as one part (the side follows from position)
    parser: str | None = None  # parts: a parser other than the run's parser.pt (e.g. a pack's parser.onnx)


@dataclass
class RearrangerConfig(Section):
    """stages/rearranger.py; the w_* are the loss weights (0: the term is off)."""
    dim: int
    heads: int
    refine: int
    steps: int
    batch: int
    lr: float
    seed: int
    tau: float
    heldout_pairs: int
    ckpt_every: int
    kind: str = "attention"  # or "layout"; content, memory and locality switch the layout kind's parts
    content: bool = True
    memory: bool = True
    locality: bool = True
    off_habit: float = 0.0  # share of batches whose targets are made off-habit (data/layout_augment.py; part-aware proxies)
    w_rec: float = 0.0
    w_img: float = 0.0
    w_mask: float = 0.0
    w_style: float = 0.0
    w_cycle: float = 0.0
    w_real: float = 0.0
    w_parse: float = 0.0
    d_lr: float = 2e-4  # the judging discriminator's (with w_real or w_parse)
    autocast: str | None = None


@dataclass
class MapperConfig(Section):
    """stages/mapper.py; a top-level "mapper.<kind>" dict overrides these for one condition kind."""
    base: int
    depth: int
    samples: int  # generated training pairs
    steps: int
    batch: int
    lr: float
    seed: int
    ckpt_every: int
    autocast: str | None = None
    off_habit: float = 0.0  # share of batches made off-habit, mask and proxy together (part-aware proxies; not edges)


@dataclass
class EncoderConfig(Section):
    """stages/encoder.py."""
    base: int
    steps: int
    batch: int
    lr: float
    seed: int
    real_weight: float  # weight of the real photos' losses against the generated samples'
    ckpt_every: int
    report_images: int  # test/ photos reconstructed for the report
    refine_steps: int
    autocast: str | None = None
    refine_images: int | None = None  # refine only the first N report photos (it is slow on one thread); None = all


SECTIONS = {"data": DataConfig, "generator": GeneratorConfig, "gan": GanConfig, "parser": ParserConfig,
            "eval_parser": ParserConfig, "proxy": ProxyConfig, "rearranger": RearrangerConfig, "mapper": MapperConfig,
            "encoder": EncoderConfig}


@dataclass
class Config:
    """One configs/<name>.json. Sections a config does not have are None (evaluation.json has only a parser)."""
    name: str
    data: DataConfig
    title: str | None = None  # the pack's (export/pack.py), as are pack_name and quality
    pack_name: str | None = None
    quality: str | None = None
    generator: GeneratorConfig | None = None
    gan: GanConfig | None = None
    parser: ParserConfig | None = None
    eval_parser: ParserConfig | None = None
    proxy: ProxyConfig | None = None
    rearranger: RearrangerConfig | None = None
    mapper: MapperConfig | None = None
    encoder: EncoderConfig | None = None
    mapper_kinds: dict = field(default_factory=dict)  # "mapper.<kind>" overrides, by kind

    @classmethod
    def from_dict(cls, d: dict) -> "Config":
        name, values, kinds = d["name"], {}, {}
        for key, value in d.items():
            if key.startswith("mapper."):
                kinds[key.removeprefix("mapper.")] = value
            elif key in SECTIONS:
                values[key] = SECTIONS[key].from_dict(value, f"config {name}, section {key}")
            elif key in ("name", "title", "pack_name", "quality"):
                values[key] = value
            else:
                raise UserError(f"config {name}: unknown section {key} (known: {', '.join(SECTIONS)}, title, pack_name, quality)")
        if "data" not in values:
            raise UserError(f"config {name}: data missing")
        for kind, overrides in kinds.items():  # checked now, not only when that kind trains
            if "mapper" not in values:
                raise UserError(f"config {name}: mapper.{kind} without a mapper section")
            values["mapper"].override(**overrides)
        return cls(mapper_kinds=kinds, **values)

    @classmethod
    def load(cls, name_or_path: str) -> "Config":
        return cls.from_dict(load_config(name_or_path))

    def section(self, name: str):
        """A section by name; "mapper.<kind>" is the mapper section with that kind's overrides."""
        base, _, kind = name.partition(".")
        s = getattr(self, base, None) if base in SECTIONS else None
        if s is None:
            raise UserError(f"config {self.name} has no section {base}")
        return s.override(**self.mapper_kinds.get(kind, {})) if kind else s


def stage_config(args, section: str, **changes):
    """The config a stage runs with: --config, then its section with --set, --steps (where the stage has
    it; 0 or none: the config's) and `changes` (None: not given) applied. Returns the whole config, that
    section replaced, and the section."""
    cfg = Config.load(args.config)
    s = cfg.section(section).with_sets(args.set, section)
    changes = {"steps": getattr(args, "steps", None) or None, **changes}
    s = s.override(**{k: v for k, v in changes.items() if v is not None})
    return replace(cfg, **{section.partition(".")[0]: s}), s
