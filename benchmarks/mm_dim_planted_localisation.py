"""Where a finished mm-dim run's AD-vs-HC saliency differences fall relative to the simulated cohort's planted regions.

For the first fold of a run directory on the built-in simulated cohort (read-only: its data,
resolved config and checkpoints), each trained network is rebuilt from its checkpoint, its probes
are refitted exactly as the run fitted them (same subjects, trials and seed; the hold-out AUCs are
printed next to the run's ``probes.csv`` as a check), and the recipe's introspection is redone on
the probe's most positive and most negative latent dimension of each modality: SmoothGrad (σ 0.05,
5 samples, brain-masked, rescaled, smoothed σ 1.5), Mann–Whitney U of AD vs HC, rank-biserial
correlation kept where the mean saliency is at least 0.1 ("RBC"), and also at least 0.7 times its
maximum ("RBC core"); the mean saliency map itself ("mean saliency"). On two subject sets: the recipe's own
(its first ``introspect_subjects`` unseen subjects, any class) and every unseen HC/AD subject.
Per map: the peak's distance to the nearest planted region
(:mod:`alignome.recipes.mm_dim.planted_localisation`), the share of the top 1 % |RBC| voxels
inside a planted region and the share chance gives.

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/mm_dim_planted_localisation.py RUN_DIR --cache CACHE``
(``CACHE``: the run's volume cache, e.g. a copy of it). Writes
``benchmarks/results/mm_dim_planted_localisation.{csv,md}``.
"""

from __future__ import annotations

import argparse
import logging
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from alignome.objectives.dim import DIMObjective
from alignome.analysis.saliency import smoothgrad
from alignome.recipes.mm_dim.cohort import load_volumes, read_paired_cohort
from alignome.recipes.mm_dim.fold_volumes import fold_volumes
from alignome.recipes.mm_dim.introspection import SMOOTHGRAD, group_difference_maps
from alignome.recipes.mm_dim.planted_localisation import localisation, planted_masks
from alignome.recipes.mm_dim.probe import evaluation_latents, probe_rows
from alignome.recipes.mm_dim.run import pretrain_settings
from alignome.recipes.mm_dim.splits import fold_plan, split_subjects
from alignome.recipes.registry import load_recipe
from alignome.simulate.falff3d import FIELD_MM, mm_grid
from alignome.training.dim_pretrain import build_model

RESULTS = Path(__file__).resolve().parent / "results"
#: "RBC core" rows keep voxels whose mean saliency is at least this share of its maximum (as the trained-encoder test).
CORE = 0.7


def trained_model(path: Path, objective: DIMObjective, size: int, settings):
    """The network saved in a run's checkpoint (its key is the run's own: trusted here, read-only)."""
    blob = pickle.loads(path.read_bytes())
    state = pickle.loads(blob["payload"])
    model = build_model(objective, size, settings)
    model.load_state_dict(state["model"])
    return model.eval(), int(state["epoch"])


def extreme_maps(model, modality: int, volumes: list[np.ndarray], coefficients: np.ndarray, seed: int):
    """Saliency of the probe's most positive and most negative dimension only, and their coefficients."""
    dims = [int(np.argmax(coefficients)), int(np.argmin(coefficients))]
    maps = smoothgrad(model.latent_encoder(modality), np.stack(volumes)[:, None], dimension=dims, seed=seed,
                      **SMOOTHGRAD)
    return maps, coefficients[dims], dims


def markdown_table(table: pd.DataFrame) -> str:
    """A plain Markdown table (floats to 3 decimals)."""
    cells = [[f"{v:.3f}" if isinstance(v, float) else str(v) for v in row] for row in table.itertuples(index=False)]
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in cells])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=RESULTS / "mm_dim_planted_localisation")
    args = parser.parse_args()
    torch.set_num_threads(1)
    logging.basicConfig(level=logging.INFO)
    log = logging.getLogger("planted")
    recipe = load_recipe(args.run / "config.resolved.yaml", data_dir=args.run / "data")
    m, p = recipe.method, recipe.protocol
    cohort = read_paired_cohort(recipe.data, log)
    volumes = load_volumes(cohort, m.size, args.cache, 1, log)
    splits = split_subjects(cohort.groups, p.folds, p.holdout_fraction, recipe.seed)
    plan = fold_plan(cohort, splits, splits.folds[0])
    pairs = cohort.pairs.iloc[plan.pretrain_pairs]
    fit_ids = set(pairs["row_a"].astype(int)) | set(pairs["row_b"].astype(int))
    inputs = fold_volumes(volumes, cohort.images, fit_ids, m.histogram_standardisation)
    grid = mm_grid(FIELD_MM / m.size)
    modalities = recipe.data.modalities
    masks = {mod: planted_masks(grid, mod) for mod in modalities}
    evaluation = cohort.evaluation.set_index("subject")
    unseen = list(plan.unseen)
    subject_sets = {"recipe": unseen[: p.introspect_subjects],
                    "unseen HC/AD": [s for s in unseen if cohort.groups.loc[s] in (0, 1)]}
    logged = pd.read_csv(args.run / "probes.csv")
    rows = []
    for name in m.objectives:
        objective = DIMObjective(name, penalty=m.penalty, clip=m.clip, iwae_samples=m.iwae_samples)
        model, epochs = trained_model(args.run / "checkpoints" / f"{name}_fold{plan.fold}.pkl", objective, m.size,
                                      pretrain_settings(recipe))
        z = evaluation_latents(model, cohort, inputs, sorted(plan.split_of()))
        outcome = probe_rows(z, cohort, plan, modalities, name, p.probe_trials, p.probe_folds, recipe.seed)
        for row in outcome.rows:
            was = logged[(logged.objective == name) & (logged.modality == row["modality"]) & (logged.fold == plan.fold)]
            print(f"{name} {row['modality']}: hold-out AUC {row['auc_holdout']:.3f} (run: "
                  f"{float(was['auc_holdout'].iloc[0]):.3f})", flush=True)
        for set_name, subjects in subject_sets.items():
            chosen = evaluation.loc[subjects]
            groups = cohort.groups.loc[subjects].to_numpy(int)
            for k, modality in enumerate(modalities):
                coefficients = outcome.coefficients[modality]
                if np.ptp(coefficients) == 0:
                    rows.append({"objective": name, "subjects": set_name, "modality": modality,
                                 "map": "constant probe"})
                    continue
                vols = [inputs[int(i)] for i in chosen[("row_a", "row_b")[k]]]
                brain = np.mean([v != 0 for v in vols], axis=0) > 0.5
                maps, coefs, dims = extreme_maps(model, k, vols, coefficients, recipe.seed)
                effects = group_difference_maps(maps, groups, coefs)
                cores = group_difference_maps(maps, groups, coefs, relative_floor=CORE)
                for j, ((label, effect), core, dim) in enumerate(zip(effects.items(), cores.values(), dims)):
                    shown = {f"RBC, {label[:2]} dim {dim}": effect, f"RBC core, {label[:2]} dim {dim}": core,
                             f"mean saliency, {label[:2]} dim {dim}": maps[:, j].mean(0)}
                    for what, values in shown.items():
                        found = localisation(values, masks[modality], brain, grid.spacing)
                        rows.append({"objective": name, "epochs": epochs, "subjects": set_name, "n": len(subjects),
                                     "n_hc": int((groups == 0).sum()), "n_ad": int((groups == 1).sum()),
                                     "modality": modality, "map": what, "peak_value": found.peak_effect,
                                     "nearest_region": found.nearest_region,
                                     "peak_distance_mm": found.peak_distance_mm, "top_voxels": found.top_voxels,
                                     "top_in_regions": found.top_in_regions, "chance_brain": found.chance_brain,
                                     "chance_nonzero": found.chance_nonzero, "enrichment": found.enrichment})
                        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out.with_suffix(".csv"), index=False)
    args.out.with_suffix(".md").write_text(
        f"# AD-vs-HC saliency differences against the planted regions ({args.run.name}, fold {plan.fold})\n\n"
        + markdown_table(table) + "\n")


if __name__ == "__main__":
    main()
