"""rantwin.surrogate: the generative twin, a learned sampler of the simulator's KPIs.

Scene → Φ features → graph → network → KPI draws (``../shared/DESIGN.md`` §1, §4; the user
guide is ``docs/twin.md``). One concept per module:

- :mod:`.features`: Φ over every (cell, UE) link of a batch of scenes;
- :mod:`.path`: Φ serving cells along each UE's walk of the super-step;
- :mod:`.graph`: scenes → torch-geometric ``HeteroData`` (cell and UE nodes, Φ edges);
- :mod:`.model`: the hetero-GNN backbone, scene latent (CVAE) and heads;
- :mod:`.quantiles`, :mod:`.slow`, :mod:`.ssm`: quantile heads, the slow per-UE state across
  super-steps, the fast per-TTI recurrence;
- :mod:`.kpis`: normalised draws → KPIs in physical units;
- :mod:`.twin`: the sampler (:class:`~.twin.Twin`); :mod:`.compiled` its opt-in
  ``torch.compile`` paths;
- :mod:`.data`, :mod:`.train`, :mod:`.training_log`, :mod:`.pipeline`, :mod:`.presets`,
  :mod:`.checkpoint`: datasets → graphs, training, checkpoints;
- :mod:`.metrics`, :mod:`.evaluate`, :mod:`.report`: grading against the simulator's floor;
- :mod:`.diffusion`: the conditional diffusion head (issue #7).
"""
