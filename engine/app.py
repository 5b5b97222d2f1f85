"""Phototype's networks as a Ray Serve application: one application per model pack.

`npx phototype engine` writes the Serve config from pack.json (docs/SCALING.md); it names
`build` below with the pack's folder, and nothing here names a pack, a network or a shape.

  GET  <route>/           {"pack", "version", "networks": {key: sha256}, "provider", "pid"}
  POST <route>/<network>  tensors in pack.json's input names (tensor_wire.py) -> its outputs

Each network has its own batch queue (@serve.batch): calls that queue up while the network is
busy (and, with batch_wait_ms, those that arrive within that long of the first), from one Node
server or many, are concatenated along the batch axis, run once and split again. ONNX
Runtime's CPU kernels treat batch items independently, so a call gives the same bytes alone or
batched, and the same bytes as the Node server's in-process sessions (test/server/engine.test.ts).
One run at a time a replica: each run uses all its threads.
"""
import asyncio
import hmac
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from ray import serve
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

import tensor_wire as wire
from pack_sessions import open_pack


def _text(status: int, message: str) -> Response:
    return Response(message, status_code=status, media_type="text/plain; charset=utf-8")


@serve.deployment(name="networks")
class PackNetworks:
    def __init__(self, pack_dir: str, threads: int = 0, provider: str = "auto", max_batch_size: int = 8,
                 batch_wait_ms: float = 0.0, max_rows: int = 64, token: str = "", test_delay_ms: float = 0):
        self.manifest, self.networks = open_pack(pack_dir, threads, provider)
        self.provider = next(iter(self.networks.values())).session.get_providers()[0]
        self.max_rows = max_rows
        self.token = token
        # Test-only (test/server/engine.test.ts): a slow engine, each call waits this long first.
        self.delay_s = test_delay_ms / 1000
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="onnxruntime")
        batch = serve.batch(max_batch_size=max_batch_size, batch_wait_timeout_s=batch_wait_ms / 1000)
        self.queues = {key: batch(self._batch_runner(net)) for key, net in self.networks.items()}

    def _batch_runner(self, net):
        async def run(calls: list) -> list:
            return await self._run_calls(net, calls)
        return run

    async def _run(self, net, feeds: dict) -> list:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, net.session.run, net.outputs, feeds)

    async def _run_calls(self, net, calls: list) -> list:
        """Calls (feeds dicts) in one run per chunk of at most max_rows rows; a chunk that fails
        is rerun call by call, so one bad call fails alone. Each result is (outputs, how many calls
        shared the run); an exception is returned, not raised."""
        results, start = [], 0
        while start < len(calls):
            end, rows = start + 1, _rows(calls[start])
            while end < len(calls) and rows + _rows(calls[end]) <= self.max_rows and _fits(calls[start], calls[end]):
                rows += _rows(calls[end])
                end += 1
            chunk = calls[start:end]
            try:
                if len(chunk) == 1:
                    results.append((await self._run(net, chunk[0]), 1))
                else:
                    merged = {name: np.concatenate([c[name] for c in chunk]) for name in net.inputs}
                    outs = await self._run(net, merged)
                    cuts = np.cumsum([_rows(c) for c in chunk])[:-1]
                    parts = [np.split(o, cuts) for o in outs]
                    results.extend(([p[i] for p in parts], len(chunk)) for i in range(len(chunk)))
            except Exception:
                for call in chunk:
                    try:
                        results.append((await self._run(net, call), 1))
                    except Exception as e:  # noqa: BLE001 - handed back to the one caller
                        results.append(e)
            start = end
        return results

    def info(self) -> dict:
        m = self.manifest
        return {"pack": m["name"], "version": m["version"], "provider": self.provider, "pid": os.getpid(),
                "networks": {k: n.sha256 for k, n in self.networks.items()}}

    async def __call__(self, request: Request) -> Response:
        if self.token and not hmac.compare_digest(request.headers.get("authorization", "").encode(), f"Bearer {self.token}".encode()):
            return _text(401, "this engine needs its token (serve --engine-token)")
        key = request.url.path.rstrip("/")[len(request.scope.get("root_path", "").rstrip("/")):].strip("/")
        if request.method == "GET" and key == "":
            return JSONResponse(self.info())
        net = self.networks.get(key)
        if request.method != "POST" or net is None:
            return _text(404, f"pack {self.manifest['name']} has no network {key!r} (POST <route>/<network>)")
        wanted = request.headers.get("x-phototype-sha256")
        if wanted and wanted != net.sha256:
            return _text(409, f"the engine serves another version of {self.manifest['name']} {key} (sha256 {net.sha256[:12]}…)")
        try:
            feeds = wire.decode(await request.body())
            missing = [n for n in net.inputs if n not in feeds]
            if missing:
                raise wire.WireError(f"network {key} needs input(s) {', '.join(missing)}")
        except wire.WireError as e:
            return _text(400, str(e))
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        result = await self.queues[key]({n: feeds[n] for n in net.inputs})
        if isinstance(result, Exception):
            return _text(400, f"network {key} failed: {str(result).splitlines()[0][:300]}")
        outputs, shared = result
        # How many calls shared this run: the server counts them (/health, npm run bench).
        return Response(wire.encode(dict(zip(net.outputs, outputs))), media_type=wire.CONTENT_TYPE,
                        headers={"x-phototype-batch": str(shared)})


def _rows(feeds: dict) -> int:
    return next(iter(feeds.values())).shape[0]


def _fits(a: dict, b: dict) -> bool:
    """Whether two calls' inputs can be concatenated along the batch axis."""
    return all(a[k].shape[1:] == b[k].shape[1:] and a[k].dtype == b[k].dtype for k in a)


def build(args: dict):
    """Serve application builder: args are PackNetworks' keyword arguments (pack_dir required)."""
    return PackNetworks.bind(**args)
