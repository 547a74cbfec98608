"""Minimize the six-hump camel function with a gest-api optimizer on 4 local workers."""

from libens import VOCS, Ensemble, ExitCriteria, GenSpecs, LibeSpecs, SimSpecs
from libens.gens import AsyncCMAES


def camel(point: dict) -> dict:
    x, y = point["x"], point["y"]
    return {"f": (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2}


if __name__ == "__main__":
    vocs = VOCS(variables={"x": [-3, 3], "y": [-2, 2]}, objectives={"f": "MINIMIZE"})
    H, _, _ = Ensemble(
        sim_specs=SimSpecs(simulator=camel, vocs=vocs),
        gen_specs=GenSpecs(generator=AsyncCMAES(vocs, seed=1), vocs=vocs, async_return=True),
        exit_criteria=ExitCriteria(sim_max=400),
        libE_specs=LibeSpecs(comms="local", nworkers=4, run_dir="gest_output", overwrite=True),
    ).run()
    best = H[H["sim_ended"]][H["f"][H["sim_ended"]].argmin()]
    print(
        f"best f = {best['f']:.6f} at x = {best['x']:.4f}, y = {best['y']:.4f} "
        "(minimum -1.031628 at (0.0898, -0.7126) and (-0.0898, 0.7126))"
    )
