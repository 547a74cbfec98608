"""Use an optimizer written in another language (here Node.js) as the generator.

python examples/external_generator/run.py
"""

from pathlib import Path

from libens import Ensemble, ExitCriteria, GenSpecs, LibeSpecs, SimSpecs
from libens.gens import ExternalGenerator
from libens.gens.external import vocs_from_parameters

HERE = Path(__file__).parent


def simulate(p: dict) -> dict:
    return {"RESULT": -((p["x"] - 40) ** 2) - (p["y"] - 3.5) ** 2 + (5 if p["kind"] == "b" else 0)}


if __name__ == "__main__":
    vocs = vocs_from_parameters(
        ["x range 1 100 int", "y range 0 10 float", "kind choice a,b", "tag fixed 111"],
        {"RESULT": "max"},
    )
    gen = ExternalGenerator(
        vocs, ["node", str(HERE / "coordinate_search.js")], constraints=["y <= x"], timeout=30
    )
    H, _, _ = Ensemble(
        sim_specs=SimSpecs(simulator=simulate, vocs=vocs),
        gen_specs=GenSpecs(generator=gen, vocs=vocs, batch_size=1),
        exit_criteria=ExitCriteria(sim_max=60),
        libE_specs=LibeSpecs(comms="threads", nworkers=1, disable_log_files=True),
    ).run()
    best = H[H["RESULT"].argmax()]
    print(
        f"best RESULT {best['RESULT']:.3f} at x={best['x']}, y={best['y']:.3f}, "
        f"kind={best['kind']} after {int(H['sim_ended'].sum())} evaluations"
    )
