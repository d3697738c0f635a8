"""Offline evaluation: last-basket holdout on purchase histories, baselines beside our learned ranker.

`data` loads baskets, `split` holds the last one out, `signals` keeps the shared statistics (popularity,
co-purchase), `baselines` and `ranker` (over `features`) recommend, `metrics` score, `report` writes
Markdown and a chart, `pipeline` runs it all.
"""
