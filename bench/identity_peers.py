"""The peers bench.identity_accuracy sets ours against on the same FEBRL fields: recordlinkage
(sorted neighbourhood and date-of-birth blocks, binary comparisons, ECM) and Splink (DuckDB, EM).
Both are the ``bench`` extra's; each is imported when it runs.
"""

from __future__ import annotations

import time

from bench.identity_scoring import Dataset, Row, closure, components, pair, score


def run_recordlinkage(data: Dataset, ssn: bool) -> Row:
    import recordlinkage

    started = time.perf_counter()
    frames = [f.copy() for f in data.frames]
    indexer = recordlinkage.Index()
    indexer.sortedneighbourhood("surname", window=9)
    indexer.sortedneighbourhood("given_name", window=9)
    indexer.block("date_of_birth")
    pairs = indexer.index(*frames)
    compare = recordlinkage.Compare()
    for column in ("given_name", "surname", "address_1", "suburb"):
        compare.string(column, column, method="jarowinkler", threshold=0.85, label=column)
    for column in ("street_number", "postcode", "state", "date_of_birth"):
        compare.exact(column, column, label=column)
    if ssn:
        compare.exact("soc_sec_id", "soc_sec_id", label="soc_sec_id")
    features = compare.compute(pairs, *frames)
    links = recordlinkage.ECMClassifier(binarize=None).fit_predict(features)
    if len(data.frames) == 2:
        predicted_pairs = [pair("a:" + x, "b:" + y) for x, y in links]
    else:
        predicted_pairs = [pair(x, y) for x, y in links]
    seconds = time.perf_counter() - started
    predicted = closure(components(predicted_pairs))
    return score("recordlinkage SN + ECM", "crm+ssn" if ssn else "crm", predicted, data.truth, seconds)


def run_splink(data: Dataset, ssn: bool) -> Row:
    import logging

    import splink.comparison_library as cl
    from splink import Linker, SettingsCreator, block_on
    from splink.backends.duckdb import DuckDBAPI

    started = time.perf_counter()
    frames = []
    for frame, prefix in zip(data.frames, data.prefixes, strict=True):
        copy = frame.reset_index()
        copy["unique_id"] = prefix + copy["rec_id"].astype(str)
        frames.append(copy.drop(columns=["rec_id"]) if ssn else copy.drop(columns=["rec_id", "soc_sec_id"]))
    comparisons = [
        cl.NameComparison("given_name"),
        cl.NameComparison("surname"),
        cl.DamerauLevenshteinAtThresholds("date_of_birth", [1, 2]),
        cl.ExactMatch("street_number"),
        cl.JaroWinklerAtThresholds("address_1", [0.9, 0.8]),
        cl.JaroWinklerAtThresholds("address_2", [0.9]),
        cl.JaroWinklerAtThresholds("suburb", [0.9]),
        cl.DamerauLevenshteinAtThresholds("postcode", [1]),
        cl.ExactMatch("state"),
    ]
    if ssn:
        comparisons.append(cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1]))
    settings = SettingsCreator(
        link_type="link_only" if len(frames) == 2 else "dedupe_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=[
            block_on("given_name"),
            block_on("surname"),
            block_on("date_of_birth"),
            block_on("postcode"),
        ],
    )
    db_api = DuckDBAPI()
    tables = [db_api.register(f) for f in frames]
    linker = Linker(tables if len(tables) > 1 else tables[0], settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "date_of_birth")], recall=0.6
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode"))
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, 0.99
    ).as_pandas_dataframe()
    seconds = time.perf_counter() - started
    groups: dict[str, list[str]] = {}
    for cluster, uid in zip(clusters["cluster_id"], clusters["unique_id"], strict=True):
        groups.setdefault(str(cluster), []).append(str(uid))
    return score(
        "Splink (DuckDB, EM)", "crm+ssn" if ssn else "crm", closure(groups.values()), data.truth, seconds
    )


__all__ = ["run_recordlinkage", "run_splink"]
