"""The ledger schema: every table of a launderbench dataset, its columns and its codes.

A dataset has two halves.

*Observable view* (what an investigator, and so every detector, sees):

``chains``       one row per chain: id, name, model (``utxo`` or ``account``), block interval.
``assets``       one row per asset: id, symbol, chain, decimals, reference USD price per whole unit.
``transactions`` one row per transaction. Each transaction moves exactly one asset; its fee is
                 paid in that asset (see README, "Modelling choices"). ``memo`` is public data
                 carried by the transaction (a bridge's deposit id, an OP_RETURN tag), -1 if none.
``inputs``       input legs. A UTXO input names the output it spends (``spent_output_id`` and
                 ``prev_tx_id``/``prev_index``); an account input has ``spent_output_id = -1``.
``outputs``      output legs; ``output_id`` equals the row number.
``addresses``    every address with its chain and public attribution (service kind and name for
                 attributed service addresses, ``SERVICE_NONE`` otherwise).
``seeds``        the announced hack transactions: (incident_id, tx_id).

*Ground truth* (never handed to a detector):

``entities``       owner of addresses: kind and name.
``address_truth``  per address: entity, laundering role, incident (-1 when benign).
``tx_truth``       per transaction: incident, stage, typology.
``taint``          sparse: (output_id, incident_id, amount) exact amount of each output that derives
                   from an incident.
``links``          hidden links across services: mixer deposit -> withdrawal, bridge lock -> release,
                   swap in -> swap out, OTC in -> out; benign links have incident -1.

Codes are small integers; their names live in the enums below and in ``meta.json``.
"""

from __future__ import annotations

from enum import IntEnum

import pyarrow as pa

SCHEMA_VERSION = 1

#: Timestamps are whole seconds since the scenario's start (``transactions.timestamp``).
HOUR = 3_600
DAY = 86_400


class ChainModel(IntEnum):
    UTXO = 0
    ACCOUNT = 1


class ServiceKind(IntEnum):
    """Public attribution of an address (what an analyst's tag database says)."""

    NONE = 0
    EXCHANGE = 1
    MIXER = 2
    BRIDGE = 3
    DEX = 4
    MINING_POOL = 5
    OTC = 6
    MARKETPLACE = 7
    PAYMENT_PROCESSOR = 8
    ISSUER = 9


class EntityKind(IntEnum):
    RETAIL = 0
    EXCHANGE = 1
    MINING_POOL = 2
    MERCHANT = 3
    PAYMENT_PROCESSOR = 4
    EMPLOYER = 5
    AIRDROP = 6
    DEX = 7
    BRIDGE = 8
    MIXER = 9
    OTC = 10
    MARKETPLACE = 11
    ISSUER = 12
    ATTACKER = 13


#: Entity kinds that are services, and the attribution they carry when attributed.
SERVICE_OF_ENTITY = {
    EntityKind.EXCHANGE: ServiceKind.EXCHANGE,
    EntityKind.MINING_POOL: ServiceKind.MINING_POOL,
    EntityKind.PAYMENT_PROCESSOR: ServiceKind.PAYMENT_PROCESSOR,
    EntityKind.DEX: ServiceKind.DEX,
    EntityKind.BRIDGE: ServiceKind.BRIDGE,
    EntityKind.MIXER: ServiceKind.MIXER,
    EntityKind.OTC: ServiceKind.OTC,
    EntityKind.MARKETPLACE: ServiceKind.MARKETPLACE,
    EntityKind.ISSUER: ServiceKind.ISSUER,
}


class Role(IntEnum):
    """Laundering role of an address in the ground truth."""

    BENIGN = 0
    VICTIM = 1
    THIEF = 2  # first receiver of the stolen funds
    SPLITTER = 3  # fan-out / split wallets
    INTERMEDIARY = 4  # hop-chain and fan-out intermediaries
    AGGREGATOR = 5  # fan-in collection wallet
    PEEL = 6  # address on a peel chain
    MIXER_DEPOSITOR = 7
    MIXER_RECIPIENT = 8
    BRIDGE_USER = 9
    SWAPPER = 10
    DORMANT = 11
    CASHOUT = 12  # exchange deposit address, OTC or marketplace address used to cash out
    MULE = 13  # structuring / smurfing account


class Stage(IntEnum):
    NONE = 0
    PLACEMENT = 1
    LAYERING = 2
    INTEGRATION = 3


class Typology(IntEnum):
    NONE = 0
    DRAIN = 1
    SPLIT = 2
    FAN_OUT = 3
    FAN_IN = 4
    CASCADE = 5
    HOP_CHAIN = 6
    PEEL_CHAIN = 7
    SWAP = 8
    BRIDGE = 9
    MIXER_POOL = 10
    COINJOIN = 11
    CUSTODIAL_MIXER = 12
    DORMANCY = 13
    EXCHANGE_DEPOSIT = 14
    STRUCTURING = 15
    OTC = 16
    MARKETPLACE = 17
    CYCLE = 18
    BIPARTITE = 19
    STACK = 20
    SCATTER_GATHER = 21
    GATHER_SCATTER = 22
    RANDOM = 23


class LinkKind(IntEnum):
    MIXER = 0
    BRIDGE = 1
    SWAP = 2
    OTC = 3


# ----------------------------------------------------------------------------- tables

OBSERVABLE_TABLES: dict[str, pa.Schema] = {
    "chains": pa.schema(
        [
            ("chain_id", pa.int16()),
            ("name", pa.string()),
            ("model", pa.int8()),
            ("block_interval", pa.int32()),
        ]
    ),
    "assets": pa.schema(
        [
            ("asset_id", pa.int16()),
            ("symbol", pa.string()),
            ("chain_id", pa.int16()),
            ("decimals", pa.int8()),
            ("usd_price", pa.float64()),
        ]
    ),
    "transactions": pa.schema(
        [
            ("tx_id", pa.int64()),
            ("chain_id", pa.int16()),
            ("asset_id", pa.int16()),
            ("timestamp", pa.int64()),
            ("block_height", pa.int64()),
            ("fee", pa.int64()),
            ("fee_rate", pa.int64()),
            ("n_inputs", pa.int32()),
            ("n_outputs", pa.int32()),
            ("is_issuance", pa.bool_()),
            ("memo", pa.int64()),
        ]
    ),
    "inputs": pa.schema(
        [
            ("tx_id", pa.int64()),
            ("index", pa.int32()),
            ("address_id", pa.int64()),
            ("asset_id", pa.int16()),
            ("amount", pa.int64()),
            ("spent_output_id", pa.int64()),
            ("prev_tx_id", pa.int64()),
            ("prev_index", pa.int32()),
        ]
    ),
    "outputs": pa.schema(
        [
            ("output_id", pa.int64()),
            ("tx_id", pa.int64()),
            ("index", pa.int32()),
            ("address_id", pa.int64()),
            ("asset_id", pa.int16()),
            ("amount", pa.int64()),
        ]
    ),
    "addresses": pa.schema(
        [
            ("address_id", pa.int64()),
            ("chain_id", pa.int16()),
            ("service_kind", pa.int8()),
            ("service_name", pa.string()),
        ]
    ),
    "seeds": pa.schema([("incident_id", pa.int32()), ("tx_id", pa.int64())]),
}

TRUTH_TABLES: dict[str, pa.Schema] = {
    "entities": pa.schema(
        [("entity_id", pa.int64()), ("kind", pa.int8()), ("name", pa.string())]
    ),
    "address_truth": pa.schema(
        [
            ("address_id", pa.int64()),
            ("entity_id", pa.int64()),
            ("role", pa.int8()),
            ("incident_id", pa.int32()),
        ]
    ),
    "tx_truth": pa.schema(
        [
            ("tx_id", pa.int64()),
            ("incident_id", pa.int32()),
            ("stage", pa.int8()),
            ("typology", pa.int8()),
        ]
    ),
    "taint": pa.schema(
        [("output_id", pa.int64()), ("incident_id", pa.int32()), ("amount", pa.int64())]
    ),
    "links": pa.schema(
        [
            ("kind", pa.int8()),
            ("in_tx_id", pa.int64()),
            ("out_tx_id", pa.int64()),
            ("incident_id", pa.int32()),
            ("amount_in", pa.int64()),
            ("amount_out", pa.int64()),
        ]
    ),
}

ALL_TABLES = {**OBSERVABLE_TABLES, **TRUTH_TABLES}

#: The metadata an investigator knows, and so the only keys of ``meta.json`` that reach a
#: detector (:class:`~launderbench.simulator.dataset.ObservableView`): the scenario's id, public
#: description and sources, the format's versions and code tables, the data's start time and
#: its announced temporal split, and for imported data where it came from and that it is a
#: slice of a chain (``partial``). Everything else
#: (the scenario's parameters, the generator's seed, the incidents, the footprint, the counts
#: of generator operations, the content hash over the truth) stays with the truth. Chains,
#: assets and announced seeds are observable tables.
OBSERVABLE_META_KEYS = ("scenario", "description", "sources", "source", "schema_version",
                        "generator_version", "enums", "split", "t0", "partial")


def enum_names() -> dict[str, dict[int, str]]:
    """Code tables written to ``meta.json`` so that Parquet files are self-describing."""
    out = {}
    for e in (ChainModel, ServiceKind, EntityKind, Role, Stage, Typology, LinkKind):
        out[e.__name__] = {int(m.value): m.name.lower() for m in e}
    return out
