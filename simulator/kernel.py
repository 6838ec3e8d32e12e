"""The ledger kernel: executes ops in time order against real balances (numba).

Ids are held as int32 here (the kernel's arrays dominate generation memory); tables widen them
to the schema's int64. This is the one truly sequential step of generation: whether a wallet can pay depends on
everything before it. The kernel keeps, per UTXO wallet, a linked list of its unspent outputs
(coin selection pops from the head; outputs join at the back, or at the front for wallets
that spend their newest coins first), and per account address a balance per
asset. It emits transactions, input legs, output legs, the hidden links of LINKED ops and the
taint incident of each output. By construction:

* no wallet or address ever spends more than it holds at that moment;
* every transaction conserves value: sum(inputs) == sum(outputs) + fee (issuance excepted);
* every UTXO output is spent at most once, by a later transaction.

The kernel runs over the ops shard by shard (``execute`` is called once per shard, or more
when a shard's row buffers fill up): everything it must remember between calls is in the
state arrays and the counter array ``ctr`` the caller keeps, so where the calls split the
ops never changes what they compute.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .ops import OP_COINJOIN, OP_ISSUE, OP_LINKED, OP_PAY, OP_SPLIT

# status codes
OK = 0
ERR_HARD_FUNDS = 1  # a hard op could not be funded
ERR_CAPACITY = 2  # internal: preallocated capacity exceeded
ERR_LINK = 3  # a hard LINKED op refers to an op that did not execute
ERR_INTERNAL = 4  # internal: an address or scratch capacity was exceeded (a bug)

UTXO_TX_OVERHEAD = 11
UTXO_IN_SIZE = 68
UTXO_OUT_SIZE = 31
GAS_NATIVE = 21000
GAS_TOKEN = 65000
GAS_EXTRA_OUTPUT = 25000


@njit(cache=True)
def _utxo_fee(rate, n_in, n_out):
    return rate * (UTXO_TX_OVERHEAD + UTXO_IN_SIZE * n_in + UTXO_OUT_SIZE * n_out)


@njit(cache=True)
def _acct_fee(rate, native, n_out):
    gas = GAS_NATIVE if native else GAS_TOKEN
    if n_out > 1:
        gas += GAS_EXTRA_OUTPUT * (n_out - 1)
    return rate * gas


@njit(cache=True)
def _peek_select(w_head, o_next, o_amount, w, target, rate, n_out):
    """How many coins (from the head) a wallet needs to pay target + fee; -1 if it cannot."""
    k = 0
    s = 0
    o = w_head[w]
    while o >= 0:
        s += o_amount[o]
        k += 1
        if s >= target + _utxo_fee(rate, k, n_out):
            return k, s
        o = o_next[o]
    return -1, s


@njit(cache=True)
def _push(w_head, w_tail, o_next, wallet_lifo, w, o):
    """Add output ``o`` to wallet ``w``'s coins: at the back (first-in-first-out coin
    selection) or, for wallets that spend their newest coins first, at the front."""
    if w_head[w] < 0:
        w_head[w] = o
        w_tail[w] = o
    elif wallet_lifo[w]:
        o_next[o] = w_head[w]
        w_head[w] = o
    else:
        o_next[w_tail[w]] = o
        w_tail[w] = o


@njit(cache=True)
def _count_coins(w_head, o_next, w):
    k = 0
    o = w_head[w]
    while o >= 0:
        k += 1
        o = o_next[o]
    return k


#: slots of the kernel's counter array ``ctr`` (carried from one call to the next)
C_OUT, C_PART, C_NTX, C_NIN, C_NOUT, C_NLINK, C_NADDR, C_NSLOT = 0, 1, 2, 3, 4, 5, 6, 7
#: first global row of the current shard's buffers (transactions, inputs, outputs, links)
C_TX0, C_IN0, C_OUT0, C_LINK0 = 8, 9, 10, 11
#: where the call stopped: the next op to execute, the status and the failing op
#: (op and output indices of this call are local to the arrays passed; ``C_OP0`` is the
#: global index of its op 0, by which ``op_rslot`` and links count)
C_NEXT, C_STATUS, C_BAD, C_OP0 = 12, 13, 14, 15
#: room for transactions in all (at most one per op)
C_CAPTX = 16
N_CTR = 17


@njit(cache=True)
def execute(
    # the range of ops to run now: [i0, i1)
    i0, i1,
    # ops (sorted by time)
    op_code, op_chain, op_asset, op_src, op_fee_rate, op_change, op_hard,
    op_incident, op_link, op_link_kind, op_rate, op_aux, op_out_count, op_part_count,
    op_rslot,
    # op outputs and coinjoin participants
    od_addr, od_wallet, od_value, od_incident, pt_wallet, pt_addr, pt_denom,
    # static tables
    chain_model, asset_local, asset_native, asset_dust,
    # addresses and wallets (capacity-sized, first ctr[C_NADDR] filled)
    addr_wallet, addr_chain, wallet_incident, wallet_main, wallet_lifo,
    # balance row of each account-chain address (-1 on UTXO chains)
    addr_slot,
    # state carried across calls: coins per wallet, balances, every output's coin fields,
    # what each op with a slot (``op_rslot``: linked-to and announced ops) realised and the
    # transaction it became, the counters
    w_head, w_tail, w_bal, bal, o_next, o_amount, o_addr, o_tx, o_idx, realized, slot_tx, ctr,
    # this call's rows (indexed from the shard's first global row, ctr[C_TX0] etc.)
    tx_op, tx_fee, tx_nin, tx_nout,
    in_tx, in_idx, in_addr, in_amount, in_spent,
    o_inc,
    l_kind, l_in, l_out, l_inc, l_ain, l_aout,
):
    """Execute ops ``i0 .. i1-1`` against the carried state.

    Stops early (``ctr[C_NEXT]`` < ``i1``, status OK) when the next op's inputs or outputs
    would not fit this call's row buffers: the caller hands the rows over and calls again
    from there. The results do not depend on where the calls split the ops.
    """
    cap_addr = addr_wallet.shape[0]
    cap_slot = bal.shape[0]
    cap_tx_g = ctr[C_CAPTX]
    cap_out_g = o_next.shape[0]
    cap_in_s = in_tx.shape[0]
    cap_out_s = o_inc.shape[0]
    cap_link_s = l_kind.shape[0]
    tx0 = ctr[C_TX0]
    in0 = ctr[C_IN0]
    out0 = ctr[C_OUT0]
    link0 = ctr[C_LINK0]
    # scratch
    amts = np.empty(4096, np.int64)
    dsts = np.empty(4096, np.int64)
    incs = np.empty(4096, np.int32)
    pk = np.empty(4096, np.int64)
    ps = np.empty(4096, np.int64)
    pchg = np.empty(4096, np.int64)

    out_cursor = ctr[C_OUT]
    part_cursor = ctr[C_PART]
    ntx = ctr[C_NTX]
    nin = ctr[C_NIN]
    nout = ctr[C_NOUT]
    nlink = ctr[C_NLINK]
    naddr = ctr[C_NADDR]
    nslot = ctr[C_NSLOT]
    status = OK
    bad_op = -1
    next_op = i1
    op0 = ctr[C_OP0]

    for i in range(i0, i1):
        gi = i + op0  # global index
        code = op_code[i]
        chain = op_chain[i]
        asset = op_asset[i]
        utxo = chain_model[chain] == 0
        la = asset_local[asset]
        dust = asset_dust[asset]
        rate = op_fee_rate[i]
        hard = op_hard[i] == 1
        shrink = op_hard[i] == 0  # EXACT ops (2) are skipped instead of shrunk
        s0 = out_cursor  # this op's outputs and participants follow the previous op's
        m = op_out_count[i]
        out_cursor += m
        p0 = part_cursor
        part_cursor += op_part_count[i]
        if m > 4000 or op_part_count[i] > 4000:
            status = ERR_CAPACITY
            bad_op = gi
            break
        if ntx >= cap_tx_g or nout + m + 2 * op_part_count[i] + 2 > cap_out_g:
            status = ERR_INTERNAL
            bad_op = gi
            break
        src = op_src[i]
        # wallet of the payer and its incident (truth)
        if code == OP_ISSUE or code == OP_COINJOIN:
            src_w = -1
        elif utxo:
            src_w = src
        else:
            src_w = addr_wallet[src]
        src_inc = wallet_incident[src_w] if src_w >= 0 else -1

        # ---------------------------------------------------------------- resolve outputs
        # desired amounts (PAY/ISSUE) or weights (SPLIT/LINKED) -> amts[0:m]
        for j in range(m):
            amts[j] = od_value[s0 + j]
            dsts[j] = od_addr[s0 + j]
            incs[j] = od_incident[s0 + j] if od_incident[s0 + j] >= 0 else src_inc
        total_in = 0  # amount taken from the payer
        n_sel = 0  # UTXO coins to take from the head
        fee = 0
        change = 0
        ok = True
        if code == OP_ISSUE:
            pass
        elif code == OP_PAY:
            want = 0
            for j in range(m):
                want += amts[j]
            if utxo:
                k, s = _peek_select(w_head, o_next, o_amount, src_w, want, rate, m + 1)
                if k >= 0:
                    n_sel = k
                    fee = _utxo_fee(rate, k, m + 1)
                    change = s - want - fee
                    if change < dust:
                        fee += change
                        change = 0
                    total_in = s
                else:
                    ok = False
                    if shrink:
                        kall = _count_coins(w_head, o_next, src_w)
                        fee = _utxo_fee(rate, kall, m)
                        avail = w_bal[src_w] - fee
                        if kall > 0 and avail >= dust * m and want > 0:
                            # shrink the payment to everything the wallet has
                            acc = 0
                            for j in range(m):
                                amts[j] = np.int64(np.floor(amts[j] * (avail / want)))
                                acc += amts[j]
                            amts[m - 1] += avail - acc
                            n_sel = kall
                            total_in = w_bal[src_w]
                            change = 0
                            ok = True
            else:
                fee = _acct_fee(rate, asset_native[asset], m)
                have = bal[addr_slot[src], la]
                if have >= want + fee:
                    total_in = want + fee
                else:
                    ok = False
                    if shrink:
                        avail = have - fee
                        if avail >= dust * m and want > 0:
                            acc = 0
                            for j in range(m):
                                amts[j] = np.int64(np.floor(amts[j] * (avail / want)))
                                acc += amts[j]
                            amts[m - 1] += avail - acc
                            total_in = have
                            ok = True
        elif code == OP_SPLIT or code == OP_LINKED:
            if code == OP_LINKED:
                ref = op_link[i]
                if ref < 0 or realized[op_rslot[ref]] <= 0:
                    ok = False
                    if hard:
                        status = ERR_LINK
                        bad_op = gi
                        break
                    target = 0
                else:
                    target = np.int64(np.floor(realized[op_rslot[ref]] * op_rate[i]))
            if ok:
                if utxo:
                    if code == OP_SPLIT:
                        n_sel = _count_coins(w_head, o_next, src_w)
                        s = w_bal[src_w]
                        fee = _utxo_fee(rate, n_sel, m)
                        avail = s - fee
                        total_in = s
                    else:
                        # the service pays exactly `target`; change returns to its wallet
                        k, s = _peek_select(w_head, o_next, o_amount, src_w, target, 0, m + 1)
                        fee = _utxo_fee(rate, max(k, 1), m + 1)
                        avail = target - fee
                        n_sel = k
                        change = s - target
                        total_in = s
                        if k < 0:
                            ok = False
                        elif change < dust:
                            avail += change
                            change = 0
                else:
                    fee = _acct_fee(rate, asset_native[asset], m)
                    if code == OP_SPLIT:
                        total_in = bal[addr_slot[src], la]
                    else:
                        total_in = target
                        if bal[addr_slot[src], la] < target:
                            ok = False
                    avail = total_in - fee
                if ok and (n_sel == 0 and utxo or avail < dust * m or total_in <= 0):
                    ok = False
                if ok:
                    wsum = 0
                    for j in range(m):
                        wsum += amts[j]
                    acc = 0
                    for j in range(m):
                        amts[j] = np.int64(np.floor(avail * (amts[j] / wsum)))
                        acc += amts[j]
                    amts[0] += avail - acc
                    for j in range(m):
                        if amts[j] <= 0:
                            ok = False
        elif code == OP_COINJOIN:
            denom = pt_denom[p0]
            npart = op_part_count[i]
            nok = 0
            for q in range(npart):
                w = pt_wallet[p0 + q]
                # each participant pays its share of the fee (its inputs and two outputs)
                k, s = _peek_select(w_head, o_next, o_amount, w, denom, rate, 2)
                pk[q] = k
                ps[q] = s
                if k < 0:
                    if hard and wallet_incident[w] >= 0:
                        status = ERR_HARD_FUNDS
                        bad_op = gi
                        break
                else:
                    nok += 1
            if status != OK:
                break
            # a round needs two funded participants; the launderer's own round (hard) goes
            # ahead with its funded slots when every benign peer happens to be short
            if nok < (1 if hard else 2):
                ok = False
        if not ok:
            if hard:
                status = ERR_HARD_FUNDS
                bad_op = gi
                break
            continue

        # room in this call's buffers? (deciding reads the state only: stop here, undone)
        if code == OP_COINJOIN:
            need_in = 0
            for q in range(op_part_count[i]):
                if pk[q] > 0:
                    need_in += pk[q]
            need_out = 2 * op_part_count[i]
        else:
            need_in = 0 if code == OP_ISSUE else (n_sel if utxo else 1)
            need_out = m + 1
        if (ntx - tx0 >= tx_op.shape[0] or nin - in0 + need_in > cap_in_s
                or nout - out0 + need_out > cap_out_s or nlink - link0 >= cap_link_s):
            out_cursor = s0
            part_cursor = p0
            next_op = i
            break

        # ---------------------------------------------------------------- emit transaction
        t = ntx
        ntx += 1
        tx_op[t - tx0] = gi
        if op_rslot[gi] >= 0:
            slot_tx[op_rslot[gi]] = t
        ni = 0
        no = 0
        if code == OP_COINJOIN:
            denom = pt_denom[p0]
            npart = op_part_count[i]
            fee_total = 0
            nchg = 0
            for q in range(npart):
                if pk[q] < 0:
                    continue
                w = pt_wallet[p0 + q]
                share = _utxo_fee(rate, pk[q], 2)
                for _ in range(pk[q]):
                    o = w_head[w]
                    w_head[w] = o_next[o]
                    if w_head[w] < 0:
                        w_tail[w] = -1
                    w_bal[w] -= o_amount[o]
                    in_tx[nin - in0] = t
                    in_idx[nin - in0] = ni
                    in_addr[nin - in0] = o_addr[o]
                    in_amount[nin - in0] = o_amount[o]
                    in_spent[nin - in0] = o
                    nin += 1
                    ni += 1
                c = ps[q] - denom - share
                if c < dust:
                    share += c
                    c = 0
                pchg[q] = c
                fee_total += share
            # equal outputs first, then change outputs
            for phase in range(2):
                for q in range(npart):
                    if pk[q] < 0:
                        continue
                    w = pt_wallet[p0 + q]
                    if phase == 0:
                        a = pt_addr[p0 + q]
                        v = denom
                    else:
                        if pchg[q] <= 0:
                            continue
                        a = -1
                        v = pchg[q]
                    if a < 0:
                        a = naddr
                        naddr += 1
                        addr_wallet[a] = w
                        addr_chain[a] = chain
                    o = nout
                    nout += 1
                    o_tx[o] = t
                    o_idx[o] = no
                    o_addr[o] = a
                    o_amount[o] = v
                    o_inc[o - out0] = wallet_incident[w]
                    no += 1
                    wa = addr_wallet[a]
                    _push(w_head, w_tail, o_next, wallet_lifo, wa, o)
                    w_bal[wa] += v
                    nchg += 1
            tx_fee[t - tx0] = fee_total
            tx_nin[t - tx0] = ni
            tx_nout[t - tx0] = no
            if op_rslot[gi] >= 0:
                realized[op_rslot[gi]] = denom
            continue

        # inputs
        if code != OP_ISSUE:
            if utxo:
                for _ in range(n_sel):
                    o = w_head[src_w]
                    w_head[src_w] = o_next[o]
                    if w_head[src_w] < 0:
                        w_tail[src_w] = -1
                    w_bal[src_w] -= o_amount[o]
                    in_tx[nin - in0] = t
                    in_idx[nin - in0] = ni
                    in_addr[nin - in0] = o_addr[o]
                    in_amount[nin - in0] = o_amount[o]
                    in_spent[nin - in0] = o
                    nin += 1
                    ni += 1
            else:
                bal[addr_slot[src], la] -= total_in
                in_tx[nin - in0] = t
                in_idx[nin - in0] = 0
                in_addr[nin - in0] = src
                in_amount[nin - in0] = total_in
                in_spent[nin - in0] = -1
                nin += 1
                ni = 1
        # outputs, with the change output at a position drawn by the op's aux bits
        n_emit = m + (1 if change > 0 else 0)
        chg_pos = op_aux[i] % n_emit if change > 0 else -1
        j = 0
        paid = 0
        for pos in range(n_emit):
            if pos == chg_pos:
                a = op_change[i]
                v = change
                inc = src_inc
                if a < 0:
                    a = wallet_main[src_w] if a == -2 else -1
                if a < 0:
                    a = naddr
                    naddr += 1
                    addr_wallet[a] = src_w
                    addr_chain[a] = chain
                    if not utxo:
                        addr_slot[a] = nslot
                        nslot += 1
            else:
                a = dsts[j]
                v = amts[j]
                inc = incs[j]
                if a < 0:
                    a = naddr
                    naddr += 1
                    addr_wallet[a] = od_wallet[s0 + j]
                    addr_chain[a] = chain
                    if not utxo:
                        addr_slot[a] = nslot
                        nslot += 1
                j += 1
                paid += v
            o = nout
            nout += 1
            o_tx[o] = t
            o_idx[o] = no
            o_addr[o] = a
            o_amount[o] = v
            o_inc[o - out0] = inc
            no += 1
            if utxo:
                wa = addr_wallet[a]
                _push(w_head, w_tail, o_next, wallet_lifo, wa, o)
                w_bal[wa] += v
            else:
                bal[addr_slot[a], la] += v
        if code == OP_ISSUE:
            fee = 0
        else:
            fee = total_in - paid - change
        tx_fee[t - tx0] = fee
        tx_nin[t - tx0] = ni
        tx_nout[t - tx0] = no
        if op_rslot[gi] >= 0:
            realized[op_rslot[gi]] = paid
        if code == OP_LINKED:
            ref = op_link[i]
            l_kind[nlink - link0] = op_link_kind[i]
            l_in[nlink - link0] = slot_tx[op_rslot[ref]]
            l_out[nlink - link0] = t
            l_inc[nlink - link0] = op_incident[i]
            l_ain[nlink - link0] = realized[op_rslot[ref]]
            l_aout[nlink - link0] = paid
            nlink += 1
        if naddr > cap_addr - 4100 or nslot > cap_slot - 4100:
            status = ERR_INTERNAL
            bad_op = gi
            break

    ctr[C_OUT] = out_cursor
    ctr[C_PART] = part_cursor
    ctr[C_NTX] = ntx
    ctr[C_NIN] = nin
    ctr[C_NOUT] = nout
    ctr[C_NLINK] = nlink
    ctr[C_NADDR] = naddr
    ctr[C_NSLOT] = nslot
    ctr[C_NEXT] = next_op
    ctr[C_STATUS] = status
    ctr[C_BAD] = bad_op
