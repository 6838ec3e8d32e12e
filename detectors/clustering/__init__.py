"""Address clustering: union-find, multi-input / change / deposit heuristics, CoinJoin test,
score lifting, and the cluster-expansion detector."""

from .cluster import DEFAULT_HEURISTICS, cluster_addresses, lift_to_entities, multi_input
from .coinjoin import coinjoin_rules, is_coinjoin
from .detectors import ClusterExpansion
from .heuristics import (
    change_pairs,
    deposit_addresses,
    deposit_pairs,
    first_appearance,
    multi_input_pairs,
)
from .unionfind import cluster_sizes, relabel_dense, union_find

__all__ = ["cluster_addresses", "lift_to_entities", "multi_input", "DEFAULT_HEURISTICS", "is_coinjoin",
           "coinjoin_rules",
           "ClusterExpansion", "multi_input_pairs", "change_pairs", "deposit_pairs",
           "deposit_addresses", "first_appearance", "union_find", "relabel_dense",
           "cluster_sizes"]
