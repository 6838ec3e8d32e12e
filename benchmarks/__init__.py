"""launderbench benchmark harness: tasks, evaluator, shortcut baselines, runner and report.

The dataset decides the task and its metrics (:mod:`launderbench.benchmarks.tasks`); the evaluator scores
arrays and never sees a detector (:mod:`launderbench.benchmarks.evaluator`); the runner times detectors on
datasets and writes tidy rows (:mod:`launderbench.benchmarks.runner`); the report draws the leaderboard
(:mod:`launderbench.benchmarks.report`). See ``docs/benchmarks.md``.
"""
