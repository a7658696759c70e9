"""``simulate MODEL [options]``: a parametric model of the paper, simulated beside its theory."""
from __future__ import annotations

import argparse
from pathlib import Path

from .options import add_common, add_overwrite, default_out, integer, number


def add_command(commands: argparse._SubParsersAction) -> None:
    from ..simulate import SIMULATIONS

    description = "Recursive training of a parametric model, simulated beside its theory."
    p = commands.add_parser("simulate", help="a parametric model of the paper beside its theory",
                            description=description)
    models = p.add_subparsers(dest="model", required=True, metavar="MODEL")
    for sim in SIMULATIONS.values():
        defaults = sim.defaults()
        sub = models.add_parser(sim.name, help=sim.description, description=sim.description)
        for opt in sim.options:
            flag = "--" + opt.name.replace("_", "-")
            if opt.kind is bool:
                sub.add_argument(flag, dest=opt.name, action="store_true", help=opt.help)
            else:
                kind = {int: integer, float: number}.get(opt.kind, opt.kind)
                sub.add_argument(flag, dest=opt.name, type=kind, default=defaults[opt.name], choices=opt.choices,
                                 help=f"{opt.help} (default {defaults[opt.name]})")
        sub.add_argument("--no-plot", action="store_true", help="write summary.json and generations.csv only")
        add_common(sub, defaults["generations"], defaults["trajectories"])
        add_overwrite(sub)
        sub.set_defaults(command=simulate_command)


def simulate_command(args: argparse.Namespace) -> int:
    """``simulate MODEL [options]``: simulated recursive training of a parametric model beside its
    theory; prints a table, writes the results and the model's figures into ``--out``."""
    from ..output import claim, format_table
    from ..plot import label, quantity
    from ..results import is_results, write
    from ..simulate import SIMULATIONS, simulate

    sim = SIMULATIONS[args.model]
    out = Path(args.out) if args.out else default_out("simulate", sim.name)
    claim(out, lambda folder: is_results(folder, {sim.name}), args.overwrite)
    results = simulate(sim.name, generations=args.generations, trajectories=args.trajectories, seed=args.seed,
                       progress=not args.quiet, **{opt.name: getattr(args, opt.name) for opt in sim.options})
    rows = results.generations
    columns = [c for c in rows[0] if any(r[c] is not None for r in rows)]
    # long runs: about 30 generations, spaced geometrically (always generation 0 and K)
    shown = rows if len(rows) <= 30 else [rows[i] for i in sorted({0, *(round((len(rows) - 1) ** (j / 28))
                                                                         for j in range(29))})]
    print(label(results), "-", quantity(results))
    print(format_table(columns, [[r[c] for c in columns] for r in shown]))
    if len(shown) < len(rows):
        print(f"({len(shown)} of {len(rows)} generations shown; all are in summary.json)")
    write(results, out, {} if args.no_plot else sim.figures(results))
    print(f"wrote {out}")
    return 0
