"""Numba kernels for taint tracing: one pass over the transactions in time (tx_id) order.

Two kernels:

* :func:`trace_ordered` — the ordered allocator shared by FIFO, LIFO, TIHO (and every XIYO
  order of Tironsakkul et al.). Value is a line of *runs* ``(amount, label)``; label 0 is clean,
  label ``d + 1`` is taint at depth ``d`` (``d = 0`` for the seed outputs). A transaction's input
  runs are laid out in the policy's input order (LIFO reverses the whole run sequence, inside
  each coin too), the fee is removed (last segment, or pro rata), and the runs are water-filled
  onto the outputs in the policy's output order. UTXO outputs keep their run list (lossless, so
  positions inside a coin are preserved); account addresses keep a queue of received lots per
  (address, asset) (Clayton's case), popped from the front (FIFO), the back (LIFO), tainted lots
  first (TIHO) or clean lots first.
* :func:`trace_scalar` — poison and haircut, which need only the tainted amount of each coin
  and of each account balance.

Seeds: every output of a seed transaction starts fully tainted (depth 0) except those paid back
to one of the seed's own input addresses (``out_own``: the payer's change), which start clean.
The taint a transaction's fee carries goes to the miner: both kernels write it per transaction
into ``fee_taint`` (zeros on entry) and do not propagate it, so for every non-seed transaction
the taint spent equals the taint of its outputs plus ``fee_taint`` (poison taints the whole
fee; taint cut by ``max_hops`` is dropped before this balance).

Both only touch transactions that carry taint; clean UTXO transactions cost one look-up per
input and clean account transfers an O(1) balance update.
"""

from __future__ import annotations

import numpy as np
from numba import njit

EPS = 1e-6  # base units; runs smaller than this are dropped

# input orders (Tironsakkul et al.'s XIYO letters)
IN_F, IN_L, IN_T, IN_C, IN_H, IN_S = 0, 1, 2, 3, 4, 5
# output orders
OUT_F, OUT_L, OUT_H, OUT_S = 0, 1, 2, 3
NO_LIMIT = np.iinfo(np.int64).max // 4


@njit(cache=True)
def _sort_idx(buf, vals_src, rows, base, k, desc):
    """Stable insertion sort of positions 0..k-1 by ``vals_src[rows[base + j]]`` into buf."""
    for j in range(k):
        v = vals_src[rows[base + j]]
        i = j
        while i > 0:
            w = vals_src[rows[base + buf[i - 1]]]
            if (w < v) if desc else (w > v):
                buf[i] = buf[i - 1]
                i -= 1
            else:
                break
        buf[i] = j


# st (int64 state shared with the Python driver):
ST_POOL, ST_NODE, ST_FREE, ST_NEED_POOL, ST_NEED_NODE, ST_NEED_LINE = 0, 1, 2, 3, 4, 5


@njit(cache=True)
def _append_lot(d, amt, lab, head, tail, node_amt, node_lab, node_next, node_prev, free,
                node_n):
    """Append a lot (``amt``, ``lab``) at the back of pair ``d``'s queue, reusing a freed
    node when there is one; returns the updated ``(free, node_n)``."""
    if free >= 0:
        nd = free
        free = node_next[nd]
    else:
        nd = node_n
        node_n += 1
    node_amt[nd] = amt
    node_lab[nd] = lab
    node_next[nd] = -1
    if head[d] < 0:
        node_prev[nd] = -1
        head[d] = nd
    else:
        node_prev[nd] = tail[d]
        node_next[tail[d]] = nd
    tail[d] = nd
    return free, node_n


@njit(cache=True)
def _ordered_run(t_start, st, tx_utxo, tx_seed, in_start, in_rows, in_amt, in_spent, in_pair,
                 out_start, out_rows, out_amt, out_pair, out_stop, out_own, in_code, out_code,
                 fee_last, max_hops, out_taint, out_depth, fee_taint, out_ptr, out_cnt, pool_amt,
                 pool_lab,
                 pair_bal, pair_taint, pair_depth, pair_len, head, tail, node_amt, node_lab,
                 node_next, node_prev, line_amt, line_lab, tmp_amt, tmp_lab, ord_buf):
    """Process transactions from ``t_start`` until done or until a buffer is too small.

    No array is reallocated here (reallocation inside the loop defeats numba's reference-count
    pruning and costs an atomic operation per access): before touching a transaction the
    kernel checks that its worst case fits and otherwise returns the transaction index with
    the sizes it needs in ``st``; the driver grows the buffers and resumes.
    """
    n_tx = tx_utxo.shape[0]
    binary = max_hops >= NO_LIMIT
    pool_n = st[ST_POOL]
    node_n = st[ST_NODE]
    free = st[ST_FREE]
    pool_cap = pool_amt.shape[0]
    node_cap = node_amt.shape[0]
    line_cap = min(line_amt.shape[0], tmp_amt.shape[0])
    t = t_start
    while t < n_tx:
        i0, i1 = in_start[t], in_start[t + 1]
        o0, o1 = out_start[t], out_start[t + 1]
        k_out = o1 - o0
        seed = tx_seed[t]
        line_n = 0
        tx_depth = NO_LIMIT  # binary mode: 1 + smallest depth of the taint spent
        utxo = tx_utxo[t]
        if utxo:
            bound = 0
            dirty = seed
            for k in range(i0, i1):
                o = in_spent[in_rows[k]]
                if (not seed) and o >= 0 and out_ptr[o] >= 0:
                    dirty = True
                    bound += out_cnt[o]
                else:
                    bound += 1
            if not dirty:
                t += 1
                continue
            if bound + k_out + 1 > line_cap or pool_n + bound + 2 * k_out > pool_cap:
                st[ST_NEED_LINE] = bound + k_out + 1
                st[ST_NEED_POOL] = pool_n + bound + 2 * k_out
                break
            k_in = i1 - i0
            if in_code == IN_H or in_code == IN_S:
                _sort_idx(ord_buf, in_amt, in_rows, i0, k_in, in_code == IN_H)
            for q in range(k_in):
                if in_code == IN_H or in_code == IN_S:
                    r = in_rows[i0 + ord_buf[q]]
                elif in_code == IN_L:
                    r = in_rows[i1 - 1 - q]
                else:
                    r = in_rows[i0 + q]
                o = in_spent[r]
                if (not seed) and o >= 0 and out_ptr[o] >= 0:
                    if out_depth[o] + 1 < tx_depth:
                        tx_depth = out_depth[o] + 1
                    p = out_ptr[o]
                    c = out_cnt[o]
                    if in_code == IN_L:  # last in, first out: the coin's runs reversed too
                        for z in range(c):
                            line_amt[line_n] = pool_amt[p + c - 1 - z]
                            line_lab[line_n] = pool_lab[p + c - 1 - z]
                            line_n += 1
                    else:
                        for z in range(c):
                            line_amt[line_n] = pool_amt[p + z]
                            line_lab[line_n] = pool_lab[p + z]
                            line_n += 1
                else:
                    line_amt[line_n] = in_amt[r]
                    line_lab[line_n] = 0
                    line_n += 1
        else:
            # account transfer (or issuance when it has no input)
            src = -1
            a = 0.0
            if i1 > i0:
                src = in_pair[in_rows[i0]]
                a = in_amt[in_rows[i0]]
            if (not seed) and (src < 0 or pair_taint[src] <= EPS):
                # clean fast path: O(1) balance updates, clean lots appended where needed
                if node_n + k_out > node_cap:
                    st[ST_NEED_NODE] = node_n + k_out
                    break
                if src >= 0:
                    pair_bal[src] = max(pair_bal[src] - a, 0.0)
                for k in range(o0, o1):
                    r = out_rows[k]
                    d = out_pair[r]
                    if d < 0:
                        continue
                    pair_bal[d] += out_amt[r]
                    if head[d] >= 0:
                        tl = tail[d]
                        if node_lab[tl] == 0:
                            node_amt[tl] += out_amt[r]
                        else:
                            free, node_n = _append_lot(
                                d, out_amt[r], 0, head, tail, node_amt, node_lab, node_next,
                                node_prev, free, node_n)
                            pair_len[d] += 1
                t += 1
                continue
            bound = 1
            if src >= 0:
                bound = pair_len[src] + 1
            if bound + k_out + 1 > line_cap or node_n + bound + 3 * k_out + 1 > node_cap:
                st[ST_NEED_LINE] = bound + k_out + 1
                st[ST_NEED_NODE] = node_n + bound + 3 * k_out + 1
                break
            if src >= 0:
                # pop `a` from the sender's queue into the line
                tx_depth = pair_depth[src] + 1
                need = a
                if head[src] < 0:
                    line_amt[0] = a
                    line_lab[0] = 0
                    line_n = 1
                    need = 0.0
                passes = 1
                if in_code == IN_T or in_code == IN_C:
                    passes = 2
                from_back = in_code == IN_L
                for ps in range(passes):
                    if need <= EPS:
                        break
                    nd = tail[src] if from_back else head[src]
                    while nd >= 0 and need > EPS:
                        nxt = node_prev[nd] if from_back else node_next[nd]
                        lab = node_lab[nd]
                        take_it = True
                        if passes == 2:
                            want_taint = (ps == 0) == (in_code == IN_T)
                            take_it = (lab > 0) == want_taint
                        if take_it:
                            take = min(need, node_amt[nd])
                            line_amt[line_n] = take
                            line_lab[line_n] = lab
                            line_n += 1
                            need -= take
                            if lab > 0:
                                pair_taint[src] -= take
                            node_amt[nd] -= take
                            if node_amt[nd] <= EPS:
                                # unlink and free
                                pv = node_prev[nd]
                                nx = node_next[nd]
                                if pv >= 0:
                                    node_next[pv] = nx
                                else:
                                    head[src] = nx
                                if nx >= 0:
                                    node_prev[nx] = pv
                                else:
                                    tail[src] = pv
                                node_next[nd] = free
                                free = nd
                                pair_len[src] -= 1
                        nd = nxt
                if need > EPS:  # more spent than known: unknown (clean) funds
                    line_amt[line_n] = need
                    line_lab[line_n] = 0
                    line_n += 1
                pair_bal[src] = max(pair_bal[src] - a, 0.0)
                if pair_taint[src] <= EPS:
                    # no taint left: collapse the queue into a clean scalar balance
                    nd = head[src]
                    while nd >= 0:
                        nx = node_next[nd]
                        node_next[nd] = free
                        free = nd
                        nd = nx
                    head[src] = -1
                    tail[src] = -1
                    pair_len[src] = 0
                    pair_taint[src] = 0.0
                    pair_depth[src] = NO_LIMIT
            else:
                # seeded issuance: a single tainted line as long as the outputs
                tot = 0.0
                for k in range(o0, o1):
                    tot += out_amt[out_rows[k]]
                line_amt[0] = tot
                line_lab[0] = 1
                line_n = 1

        # -- relabel: taint moves one hop; cut beyond max_hops
        line_taint = 0.0
        total = 0.0
        for z in range(line_n):
            if seed:
                line_lab[z] = 1
            elif line_lab[z] > 0 and not binary:
                if line_lab[z] > max_hops:
                    line_lab[z] = 0
                else:
                    line_lab[z] += 1
            if line_lab[z] > 0:
                line_taint += line_amt[z]
            total += line_amt[z]
        # -- tainted first / clean first: stable partition of the runs
        if line_taint > EPS and (in_code == IN_T or in_code == IN_C):
            m = 0
            for ps in range(2):
                want = (ps == 0) == (in_code == IN_T)
                for z in range(line_n):
                    if (line_lab[z] > 0) == want:
                        tmp_amt[m] = line_amt[z]
                        tmp_lab[m] = line_lab[z]
                        m += 1
            for z in range(line_n):
                line_amt[z] = tmp_amt[z]
                line_lab[z] = tmp_lab[z]
        # -- fee: last segment (outputs are paid first) or removed pro rata
        paid = 0.0
        for k in range(o0, o1):
            paid += out_amt[out_rows[k]]
        if (not fee_last) and total > 0.0 and paid < total:
            scale = paid / total
            for z in range(line_n):
                line_amt[z] *= scale
        # -- water-fill the runs onto the outputs in policy order
        if out_code == OUT_H or out_code == OUT_S:
            _sort_idx(ord_buf, out_amt, out_rows, o0, k_out, out_code == OUT_H)
        ri = 0
        rem = line_amt[0] if line_n > 0 else 0.0
        out_sum = 0.0
        for q in range(k_out):
            if out_code == OUT_H or out_code == OUT_S:
                r = out_rows[o0 + ord_buf[q]]
            elif out_code == OUT_L:
                r = out_rows[o1 - 1 - q]
            else:
                r = out_rows[o0 + q]
            need = out_amt[r]
            m = 0
            tsum = 0.0
            dmin = NO_LIMIT
            if seed:
                # a seed output is wholly tainted, or wholly clean when it is the payer's change
                need = 0.0
                m = 1
                tmp_amt[0] = out_amt[r]
                tmp_lab[0] = 0
                if not out_own[r]:
                    tmp_lab[0] = 1
                    tsum = out_amt[r]
                    dmin = 0
            while need > EPS:
                if ri < line_n:
                    take = min(need, rem)
                    lab = line_lab[ri]
                else:
                    take = need
                    lab = 0
                if take > EPS:
                    if m > 0 and tmp_lab[m - 1] == lab:
                        tmp_amt[m - 1] += take
                    else:
                        tmp_amt[m] = take
                        tmp_lab[m] = lab
                        m += 1
                    if lab > 0:
                        tsum += take
                        if lab - 1 < dmin:
                            dmin = lab - 1
                need -= take
                if ri < line_n:
                    rem -= take
                    if rem <= EPS:
                        ri += 1
                        rem = line_amt[ri] if ri < line_n else 0.0
            out_sum += tsum
            if tsum > EPS:
                out_taint[r] = tsum
                out_depth[r] = dmin
                if binary:
                    out_depth[r] = 0 if seed else tx_depth
            propagate = tsum > EPS and not out_stop[r]
            if utxo:
                if propagate:
                    out_ptr[r] = pool_n
                    out_cnt[r] = m
                    for z in range(m):
                        pool_amt[pool_n] = tmp_amt[z]
                        pool_lab[pool_n] = tmp_lab[z]
                        pool_n += 1
                continue
            d = out_pair[r]
            if d < 0:
                continue
            if not propagate:
                m = 1
                tmp_amt[0] = out_amt[r]
                tmp_lab[0] = 0
                tsum = 0.0
            if head[d] < 0:
                if tsum <= EPS:
                    pair_bal[d] += out_amt[r]
                    continue
                if pair_bal[d] > EPS:
                    # materialise the existing clean balance as the first lot
                    free, node_n = _append_lot(
                        d, pair_bal[d], 0, head, tail, node_amt, node_lab, node_next,
                        node_prev, free, node_n)
                    pair_len[d] = 1
            for z in range(m):
                tl = tail[d]
                if tl >= 0 and node_lab[tl] == tmp_lab[z]:
                    node_amt[tl] += tmp_amt[z]
                    continue
                free, node_n = _append_lot(
                    d, tmp_amt[z], tmp_lab[z], head, tail, node_amt, node_lab, node_next,
                    node_prev, free, node_n)
                pair_len[d] += 1
            pair_bal[d] += out_amt[r]
            pair_taint[d] += tsum
            if tsum > EPS:
                dd = out_depth[r]
                if dd < pair_depth[d]:
                    pair_depth[d] = dd
        # the taint the outputs did not take went to the fee (the miner)
        if (not seed) and line_taint - out_sum > EPS:
            fee_taint[t] = line_taint - out_sum
        t += 1
    st[ST_POOL] = pool_n
    st[ST_NODE] = node_n
    st[ST_FREE] = free
    return t


#: Initial buffer sizes of :func:`trace_ordered` (grown by doubling as needed).
INITIAL_CAPACITY = {"pool": 4096, "node": 1024, "line": 256}


def _grown(a: np.ndarray, need: int) -> np.ndarray:
    if need <= a.shape[0]:
        return a
    b = np.empty(max(int(need), 2 * a.shape[0]), dtype=a.dtype)
    b[: a.shape[0]] = a
    return b


class OrderedState:
    """The state :func:`_ordered_run` carries from one transaction to the next: the run pool of
    tainted UTXO outputs, the lots of every (address, asset) pair and the scratch lines.

    :func:`trace_ordered` makes one for a whole ledger; streaming keeps one across chunks,
    growing the pair arrays as new pairs appear (:meth:`grow_pairs`) and compacting the pool
    to the live outputs between chunks (:meth:`set_pool`).
    """

    def __init__(self, n_pairs: int = 0):
        cap = INITIAL_CAPACITY
        self.bufs = {
            "pool_amt": np.empty(cap["pool"]),
            "pool_lab": np.empty(cap["pool"], dtype=np.int64),
            "node_amt": np.empty(cap["node"]), "node_lab": np.empty(cap["node"], dtype=np.int64),
            "node_next": np.empty(cap["node"], dtype=np.int64),
            "node_prev": np.empty(cap["node"], dtype=np.int64),
            "line_amt": np.empty(cap["line"]), "line_lab": np.empty(cap["line"], dtype=np.int64),
            "tmp_amt": np.empty(cap["line"]), "tmp_lab": np.empty(cap["line"], dtype=np.int64),
        }
        n_pairs = int(n_pairs)
        self.pair_bal = np.zeros(n_pairs)
        self.pair_taint = np.zeros(n_pairs)
        self.pair_depth = np.full(n_pairs, NO_LIMIT, dtype=np.int64)
        self.pair_len = np.zeros(n_pairs, dtype=np.int64)
        self.head = np.full(n_pairs, -1, dtype=np.int64)
        self.tail = np.full(n_pairs, -1, dtype=np.int64)
        self.ord_buf = np.empty(1, dtype=np.int64)
        self.st = np.zeros(6, dtype=np.int64)
        self.st[ST_FREE] = -1

    def grow_pairs(self, n_pairs: int) -> None:
        """Room for ``n_pairs`` pairs; new pairs start empty."""
        n_old = self.pair_bal.shape[0]
        if n_pairs <= n_old:
            return
        n = max(int(n_pairs), 2 * n_old)
        for name, fill in (("pair_bal", 0.0), ("pair_taint", 0.0), ("pair_depth", NO_LIMIT),
                           ("pair_len", 0), ("head", -1), ("tail", -1)):
            old = getattr(self, name)
            new = np.full(n, fill, dtype=old.dtype)
            new[:n_old] = old
            setattr(self, name, new)

    def set_pool(self, amt: np.ndarray, lab: np.ndarray) -> None:
        """Replace the UTXO run pool by ``amt``/``lab`` (the runs of the live outputs)."""
        n = len(amt)
        cap = max(INITIAL_CAPACITY["pool"], 2 * n)
        self.bufs["pool_amt"] = np.empty(cap)
        self.bufs["pool_lab"] = np.empty(cap, dtype=np.int64)
        self.bufs["pool_amt"][:n] = amt
        self.bufs["pool_lab"][:n] = lab
        self.st[ST_POOL] = n

    def run(self, tx_utxo, tx_seed, in_start, in_rows, in_amt, in_spent, in_pair, out_start,
            out_rows, out_amt, out_pair, out_stop, out_own, in_code, out_code, fee_last,
            max_hops, out_taint, out_depth, fee_taint, out_ptr, out_cnt) -> None:
        """Process every transaction of the legs, growing the buffers when the kernel asks."""
        n_tx = len(tx_utxo)
        if n_tx:
            k_max = max(int(np.diff(in_start).max()), int(np.diff(out_start).max()), 1)
            if k_max > self.ord_buf.shape[0]:
                self.ord_buf = np.empty(k_max, dtype=np.int64)
        bufs, st = self.bufs, self.st
        t = 0
        while True:
            st[ST_NEED_POOL:] = 0
            t = _ordered_run(
                t, st, tx_utxo, tx_seed, in_start, in_rows, in_amt, in_spent, in_pair,
                out_start, out_rows, out_amt, out_pair, out_stop, out_own, in_code, out_code,
                fee_last, max_hops, out_taint, out_depth, fee_taint, out_ptr, out_cnt,
                bufs["pool_amt"], bufs["pool_lab"], self.pair_bal, self.pair_taint,
                self.pair_depth, self.pair_len, self.head, self.tail, bufs["node_amt"],
                bufs["node_lab"], bufs["node_next"], bufs["node_prev"], bufs["line_amt"],
                bufs["line_lab"], bufs["tmp_amt"], bufs["tmp_lab"], self.ord_buf)
            if t >= n_tx:
                break
            before = {k: v.shape[0] for k, v in bufs.items()}
            for key, need in (("pool", st[ST_NEED_POOL]), ("node", st[ST_NEED_NODE]),
                              ("line", st[ST_NEED_LINE]), ("tmp", st[ST_NEED_LINE])):
                for name in list(bufs):
                    if name.startswith(key + "_"):
                        bufs[name] = _grown(bufs[name], int(need))
            if all(bufs[k].shape[0] == n for k, n in before.items()):  # pragma: no cover
                raise RuntimeError(f"trace_ordered: no progress at transaction {t}")


def trace_ordered(tx_utxo, tx_seed, in_start, in_rows, in_amt, in_spent, in_pair,
                  out_start, out_rows, out_amt, out_pair, out_stop, out_own, n_pairs,
                  fee_taint, in_code, out_code, fee_last, max_hops):
    """Ordered (FIFO-family) taint propagation.

    Parameters
    ----------
    tx_utxo, tx_seed : bool[n_tx]
    in_start, out_start : int64[n_tx + 1], CSR offsets into ``in_rows`` / ``out_rows``
    in_rows, out_rows : int64, leg rows grouped by transaction, in leg-index order
    in_amt, out_amt : float64 per leg row; in_spent: spent output id per input row (-1: none)
    in_pair, out_pair : (address, asset) pair id per leg row on account chains, -1 on UTXO
    out_stop : bool per output row: taint is recorded there but not propagated
    out_own : bool per output row: a seed's output paid back to one of its input addresses
    fee_taint : float64 per transaction, zeros; receives the tainted base units of each fee
        (0 for seeds)
    in_code, out_code : policy orders; fee_last : fee is the last segment (else pro rata)
    max_hops : taint propagates through at most this many transactions after the seed

    Returns
    -------
    out_taint : float64 per output row (tainted base units)
    out_depth : int64 per output row (hops from the seed, -1 when clean)
    """
    n_out = len(out_amt)
    out_taint = np.zeros(n_out)
    out_depth = np.full(n_out, -1, dtype=np.int64)
    out_ptr = np.full(n_out, -1, dtype=np.int64)
    out_cnt = np.zeros(n_out, dtype=np.int64)
    OrderedState(n_pairs).run(
        tx_utxo, tx_seed, in_start, in_rows, in_amt, in_spent, in_pair, out_start, out_rows,
        out_amt, out_pair, out_stop, out_own, in_code, out_code, fee_last, max_hops, out_taint,
        out_depth, fee_taint, out_ptr, out_cnt)
    return out_taint, out_depth


def trace_scalar(tx_utxo, tx_seed, in_start, in_rows, in_amt, in_spent, in_pair,
                 out_start, out_rows, out_amt, out_pair, out_stop, out_own, n_pairs, fee_taint,
                 poison, max_hops):
    """Poison (``poison=True``) or haircut taint propagation; same arguments and results as
    :func:`trace_ordered` without the orders.

    Haircut: a transaction with input value V of which T is tainted gives output j
    ``w_j * T / V``; the rest of the taint (``fee * T / V``) goes to the fee. Poison: every
    output of a transaction with a tainted input is fully tainted, and so is its fee. On
    account chains an address balance plays the role of the inputs: haircut keeps the tainted
    share of the balance, poison taints the whole balance once any taint arrives (until the
    balance is spent to zero). ``fee_taint`` is filled as in :func:`trace_ordered`.
    """
    n_out = out_amt.shape[0]
    n_pairs = int(n_pairs)
    out_taint = np.zeros(n_out)
    out_depth = np.full(n_out, -1, dtype=np.int64)
    pair_bal = np.zeros(n_pairs)
    pair_taint = np.zeros(n_pairs)
    pair_depth = np.full(n_pairs, NO_LIMIT, dtype=np.int64)
    scalar_run(tx_utxo, tx_seed, in_start, in_rows, in_amt, in_spent, in_pair, out_start,
               out_rows, out_amt, out_pair, out_stop, out_own, fee_taint, poison, max_hops,
               out_taint, out_depth, pair_bal, pair_taint, pair_depth)
    return out_taint, out_depth


@njit(cache=True)
def scalar_run(tx_utxo, tx_seed, in_start, in_rows, in_amt, in_spent, in_pair, out_start,
               out_rows, out_amt, out_pair, out_stop, out_own, fee_taint, poison, max_hops,
               out_taint, out_depth, pair_bal, pair_taint, pair_depth):
    """The loop of :func:`trace_scalar` on caller-owned state: ``out_taint``/``out_depth``
    per output row (rows beyond the transactions' own outputs may hold the taint of earlier
    outputs they spend) and ``pair_bal``/``pair_taint``/``pair_depth`` per (address, asset)
    pair, all updated in place."""
    n_tx = tx_utxo.shape[0]
    for t in range(n_tx):
        i0, i1 = in_start[t], in_start[t + 1]
        o0, o1 = out_start[t], out_start[t + 1]
        seed = tx_seed[t]
        frac = 0.0  # tainted fraction of the value entering the outputs
        depth = NO_LIMIT
        tot = 0.0  # value spent (outputs + fee)
        if tx_utxo[t]:
            tnt = 0.0
            for k in range(i0, i1):
                r = in_rows[k]
                tot += in_amt[r]
                o = in_spent[r]
                # taint recorded at a stop output does not propagate
                if o >= 0 and out_taint[o] > 0.0 and not out_stop[o] and out_depth[o] < max_hops:
                    tnt += out_taint[o]
                    if out_depth[o] + 1 < depth:
                        depth = out_depth[o] + 1
            if tnt > EPS and tot > 0.0:
                frac = 1.0 if poison else min(tnt / tot, 1.0)
        else:
            if i1 > i0:
                src = in_pair[in_rows[i0]]
                a = in_amt[in_rows[i0]]
                tot = a
                b = max(pair_bal[src], a)
                tnt = pair_taint[src]
                if tnt > EPS:
                    f = 1.0 if poison else min(tnt / b, 1.0)
                    if pair_depth[src] < max_hops:
                        frac = f
                        depth = pair_depth[src] + 1
                    pair_taint[src] = max(tnt - a * f, 0.0)
                pair_bal[src] = max(pair_bal[src] - a, 0.0)
                if pair_taint[src] <= EPS:
                    pair_taint[src] = 0.0
                    pair_depth[src] = NO_LIMIT
        if seed:
            frac = 1.0
            depth = 0
        elif frac == 0.0:
            # clean: a UTXO transaction leaves nothing to record, a transfer moves balances
            if not tx_utxo[t]:
                for k in range(o0, o1):
                    r = out_rows[k]
                    d = out_pair[r]
                    if d >= 0:
                        pair_bal[d] += out_amt[r]
                        if poison and pair_taint[d] > 0.0:
                            pair_taint[d] = pair_bal[d]
            continue
        paid = 0.0
        for k in range(o0, o1):
            r = out_rows[k]
            w = out_amt[r]
            paid += w
            tj = w * frac
            if seed and out_own[r]:  # the payer's change is not stolen
                tj = 0.0
            if tj > EPS:
                out_taint[r] = tj
                out_depth[r] = depth
            if not tx_utxo[t]:
                d = out_pair[r]
                if d < 0:
                    continue
                pair_bal[d] += w
                if tj > EPS and not out_stop[r]:
                    pair_taint[d] += tj
                    if depth < pair_depth[d]:
                        pair_depth[d] = depth
                if poison and pair_taint[d] > 0.0:
                    pair_taint[d] = pair_bal[d]
        if frac > 0.0 and not seed:
            ft = (tot - paid) * frac
            if ft > EPS:
                fee_taint[t] = ft
