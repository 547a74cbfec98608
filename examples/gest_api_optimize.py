"""Minimize the six-hump camel and Rosenbrock functions with a gest-api optimizer (an
asynchronous CMA-ES) on 4 local workers, and compare with random search."""

from libens import VOCS, Ensemble, ExitCriteria, GenSpecs, LibeSpecs, SimSpecs
from libens.gens import AsyncCMAES, UniformSample


def camel(p: dict) -> dict:
    x, y = p["x"], p["y"]
    return {"f": (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2}


def rosenbrock(p: dict) -> dict:
    return {"f": 100 * (p["y"] - p["x"] ** 2) ** 2 + (1 - p["x"]) ** 2}


def best(generator, simulator, vocs) -> float:
    H, _, _ = Ensemble(
        sim_specs=SimSpecs(simulator=simulator, vocs=vocs),
        gen_specs=GenSpecs(generator=generator, vocs=vocs, async_return=True),
        exit_criteria=ExitCriteria(sim_max=400),
        libE_specs=LibeSpecs(
            comms="local", nworkers=4, disable_log_files=True, save_H_on_completion=False
        ),
    ).run()
    return float(H["f"][H["sim_ended"]].min())


if __name__ == "__main__":
    problems = {
        "six-hump camel (min -1.031628)": (
            camel,
            VOCS(variables={"x": [-3, 3], "y": [-2, 2]}, objectives={"f": "MINIMIZE"}),
        ),
        "Rosenbrock (min 0)": (
            rosenbrock,
            VOCS(variables={"x": [-2, 2], "y": [-2, 2]}, objectives={"f": "MINIMIZE"}),
        ),
    }
    for name, (sim, vocs) in problems.items():
        cma = best(AsyncCMAES(vocs, seed=1), sim, vocs)
        rnd = best(UniformSample(vocs, seed=1), sim, vocs)
        print(f"{name}: AsyncCMAES best f = {cma:.6g}, random search best f = {rnd:.6g}")
