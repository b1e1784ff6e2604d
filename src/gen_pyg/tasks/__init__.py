"""The built-in tasks, one module each, registered by name in
:data:`~gen_pyg.training.TASKS` when this package is imported (below: one explicit call per
task). The engine (:mod:`gen_pyg.training`) knows none of them; ``gen-pyg train --task NAME``,
the demo and :mod:`gen_pyg.pretrained` import this package.

- ``poisson_square`` (:data:`POISSON_SQUARE`): heat in a square house (the paper's §4.1);
- ``poisson_sphere`` (:data:`POISSON_SPHERE`): Poisson's equation on the sphere;
- ``pushing`` (:data:`PUSHING`): how a pushed object moves (§4.2), one answer per example;
- ``scenes`` (:data:`SCENES`): scene retrieval in supermazes (§4.3);
- ``spring_mass`` (:data:`SPRING_MASS`): spring-chain dynamics, rolled out on longer chains.

Example:
    >>> import gen_pyg.tasks
    >>> from gen_pyg.training import TASKS
    >>> sorted(TASKS)[:3], TASKS["poisson_square"].group_by
    (['poisson_sphere', 'poisson_square', 'pushing'], 'house')
"""

from gen_pyg.tasks.poisson_sphere import POISSON_SPHERE
from gen_pyg.tasks.poisson_square import POISSON_SQUARE
from gen_pyg.tasks.pushing import PUSHING
from gen_pyg.tasks.scenes import SCENES
from gen_pyg.tasks.spring_mass import SPRING_MASS
from gen_pyg.training import TASKS, register_task

__all__ = ["POISSON_SPHERE", "POISSON_SQUARE", "PUSHING", "SCENES", "SPRING_MASS"]

for _task in (POISSON_SQUARE, POISSON_SPHERE, PUSHING, SCENES, SPRING_MASS):
    if TASKS.get(_task.name) is not _task:
        register_task(_task)
