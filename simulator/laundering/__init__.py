"""Laundering: incidents (a theft and its laundering playbook) added to the benign economy.

One concept per module:

:mod:`.spec`
    The scenario specification: checks the ``[[incident]]`` tables and ``[difficulty]``
    knobs (:func:`validate`) and expands an incident into its steps.
:mod:`.engine`
    Runs the incidents (:func:`add_incidents`): the drain, laundering waves, the division of
    value between steps, value and time scaling, benign twins (:mod:`.twins`).
:mod:`.block_api`
    What every block is written with: the incident context ``Ctx``, positions ``Pos`` and
    their helpers.
:mod:`.playbooks`
    The ``BLOCKS`` table (block name -> function and parameter spec) and the named
    ``PLAYBOOKS``; its docstring describes the stage graph.
one module per family of blocks
    :mod:`.drain`, :mod:`.split`, :mod:`.hops`, :mod:`.peel`, :mod:`.aggregate`,
    :mod:`.swap`, :mod:`.bridge`, :mod:`.mixers`, :mod:`.dormancy`, :mod:`.integration`,
    :mod:`.amlsim`; :mod:`.accounting` checks where laundered value went.

Adding a block takes one file and one line: write ``fn(ctx, positions, **params) ->
positions`` and its parameter spec in a module of this package, using only
:mod:`.block_api`, and add one row to ``BLOCKS`` in :mod:`.playbooks`. Validation, the stage
graph, shares, waves, metadata and the accounting identity then apply to it.
``docs/typologies.md`` describes every block, preset and source.
"""

from .engine import MIN_WAVE, add_incidents
from .playbooks import BLOCKS, PLAYBOOKS
from .spec import DIFFICULTY, validate

__all__ = ["validate", "add_incidents", "BLOCKS", "PLAYBOOKS", "DIFFICULTY", "MIN_WAVE"]
