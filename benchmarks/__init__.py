"""launderbench benchmark harness: tasks, evaluator, shortcut baselines, runner and report.

The dataset decides the task and its metrics (:mod:`benchmarks.tasks`); the evaluator scores
arrays and never sees a detector (:mod:`benchmarks.evaluator`); the runner times detectors on
datasets and writes tidy rows (:mod:`benchmarks.runner`); the report draws the leaderboard
(:mod:`benchmarks.report`). See ``docs/benchmarks.md``.
"""
