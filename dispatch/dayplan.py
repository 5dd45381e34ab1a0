"""The day plan: which technician visits which jobs, in what order, arriving when.

A vehicle routing problem with time windows, solved with OR-Tools' routing
library (constraint programming with guided local search), the standard tool
for it; :func:`greedy` is the nearest-first plan a dispatcher would draw by
hand, kept as the baseline the optimiser must beat and as a fallback.

Modelled:

- each technician starts where they are (latest fix or home base) inside their
  shift and must be done by its end; travel back home is not counted;
- a job has a service duration and a time window for the arrival (the
  customer's requested window, else the day); skills: a job goes only to a
  technician holding each required skill at the required level;
- breaks: a technician's break (a duration within a window) is placed by the
  solver between visits;
- pinned visits stay with their technician (and, if given, at their time);
- a job that fits nowhere is left out and reported, never silently dropped;
- travel time: distance (haversine) ÷ a speed profile, plus a fixed overhead
  per trip (parking, walking in), unless a travel-time matrix is given (a
  routing provider's).

Times are whole seconds from the start of the planning day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from dispatch.geo import metres

DEFAULT_SPEED_MPS = 25_000 / 3600  # city traffic: 25 km/h door to door
TRIP_OVERHEAD_S = 5 * 60
_DAY_S = 24 * 3600
_DROP_PENALTY = 10_000_000  # leaving a job out costs more than any detour


@dataclass(frozen=True)
class Break:
    earliest_s: int
    latest_s: int  # latest start
    duration_s: int


@dataclass(frozen=True)
class Technician:
    id: str
    lat: float
    lon: float
    shift: tuple[int, int]
    skills: Mapping[str, int] = field(default_factory=dict)
    breaks: Sequence[Break] = ()


@dataclass(frozen=True)
class Job:
    id: str
    lat: float
    lon: float
    duration_s: int
    window: tuple[int, int] = (0, _DAY_S)  # when the technician may arrive
    skills: Mapping[str, int] = field(default_factory=dict)
    pinned_to: str | None = None
    pinned_at: int | None = None


@dataclass(frozen=True)
class Visit:
    job_id: str
    arrive_s: int
    travel_s: int  # from the previous stop


@dataclass
class Plan:
    routes: dict[str, list[Visit]]
    unassigned: list[str]
    travel_s: int

    def assignments(self) -> dict[str, str]:
        return {visit.job_id: tech for tech, visits in self.routes.items() for visit in visits}


def travel_matrix(
    points: Sequence[tuple[float, float]], speed_mps: float = DEFAULT_SPEED_MPS
) -> list[list[int]]:
    """Seconds from each point to each other (0 to itself)."""
    return [
        [
            0 if i == j else int(metres(*a, *b) / speed_mps) + TRIP_OVERHEAD_S
            for j, b in enumerate(points)
        ]
        for i, a in enumerate(points)
    ]


def qualified(technician: Technician, job: Job) -> bool:
    if job.pinned_to is not None and job.pinned_to != technician.id:
        return False
    return all(technician.skills.get(skill, 0) >= level for skill, level in job.skills.items())


def optimise(
    technicians: Sequence[Technician],
    jobs: Sequence[Job],
    *,
    matrix: Sequence[Sequence[int]] | None = None,
    time_limit_s: float = 5.0,
) -> Plan:
    """The best plan found within ``time_limit_s``. ``matrix`` (travel seconds between
    the technicians' starts, then the jobs, in that order) replaces the speed profile."""
    if not technicians or not jobs:
        return Plan({t.id: [] for t in technicians}, [j.id for j in jobs], 0)
    points = [(t.lat, t.lon) for t in technicians] + [(j.lat, j.lon) for j in jobs]
    model = _Model(technicians, jobs, matrix or travel_matrix(points))
    params = pywrapcp.DefaultRoutingSearchParameters()
    strategies = routing_enums_pb2.FirstSolutionStrategy
    params.first_solution_strategy = strategies.PARALLEL_CHEAPEST_INSERTION
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(int(time_limit_s * 1000))
    solution = model.routing.SolveWithParameters(params)
    if solution is None:
        raise InfeasiblePlan("no plan keeps every pinned visit within its technician's shift")
    return model.read(solution)


class _Model:
    """The routing model: nodes are the technicians' starts, the jobs, and one free end."""

    def __init__(
        self,
        technicians: Sequence[Technician],
        jobs: Sequence[Job],
        matrix: Sequence[Sequence[int]],
    ) -> None:
        self.technicians, self.jobs = technicians, jobs
        n_tech = len(technicians)
        self.seconds = [[*row, 0] for row in matrix] + [[0] * (len(matrix) + 1)]
        end = len(self.seconds) - 1
        self.manager = pywrapcp.RoutingIndexManager(
            len(self.seconds), n_tech, list(range(n_tech)), [end] * n_tech
        )
        self.routing = pywrapcp.RoutingModel(self.manager)
        self.service = [0] * n_tech + [job.duration_s for job in jobs] + [0]
        self.routing.SetArcCostEvaluatorOfAllVehicles(
            self.routing.RegisterTransitCallback(self.travel)
        )
        transit = self.routing.RegisterTransitCallback(self.transit)
        self.routing.AddDimension(transit, _DAY_S, 2 * _DAY_S, False, "time")
        self.time = self.routing.GetDimensionOrDie("time")
        self._shifts_and_breaks()
        self._jobs()

    def travel(self, from_index: int, to_index: int) -> int:
        a, b = self.manager.IndexToNode(from_index), self.manager.IndexToNode(to_index)
        return int(self.seconds[a][b])

    def transit(self, from_index: int, to_index: int) -> int:
        node = self.manager.IndexToNode(from_index)
        return int(self.service[node]) + self.travel(from_index, to_index)

    def _shifts_and_breaks(self) -> None:
        for v, tech in enumerate(self.technicians):
            self.time.CumulVar(self.routing.Start(v)).SetRange(*tech.shift)
            self.time.CumulVar(self.routing.End(v)).SetRange(*tech.shift)
            self.routing.AddVariableMinimizedByFinalizer(self.time.CumulVar(self.routing.End(v)))
            breaks = [
                self.routing.solver().FixedDurationIntervalVar(
                    brk.earliest_s, brk.latest_s, brk.duration_s, False, f"break {tech.id} {i}"
                )
                for i, brk in enumerate(tech.breaks)
            ]
            if breaks:
                self.time.SetBreakIntervalsOfVehicle(breaks, v, self.service)

    def _jobs(self) -> None:
        n_tech = len(self.technicians)
        for k, job in enumerate(self.jobs):
            index = self.manager.NodeToIndex(n_tech + k)
            earliest, latest = job.window
            if job.pinned_at is not None:
                earliest = latest = job.pinned_at
            self.time.CumulVar(index).SetRange(earliest, latest)
            allowed = [v for v, tech in enumerate(self.technicians) if qualified(tech, job)]
            if not allowed:  # nobody can: left out, at no cost
                self.routing.AddDisjunction([index], 0)
                self.routing.solver().Add(self.routing.ActiveVar(index) == 0)
                continue
            self.routing.VehicleVar(index).SetValues([-1, *allowed])  # -1: left out
            if job.pinned_to is None:  # a pinned job must be in its technician's route
                self.routing.AddDisjunction([index], _DROP_PENALTY)

    def read(self, solution: pywrapcp.Assignment) -> Plan:
        n_tech = len(self.technicians)
        routes: dict[str, list[Visit]] = {}
        total = 0
        for v, tech in enumerate(self.technicians):
            visits: list[Visit] = []
            previous = self.routing.Start(v)
            index = solution.Value(self.routing.NextVar(previous))
            while not self.routing.IsEnd(index):
                job = self.jobs[self.manager.IndexToNode(index) - n_tech]
                hop = self.travel(previous, index)
                total += hop
                visits.append(Visit(job.id, solution.Min(self.time.CumulVar(index)), hop))
                previous, index = index, solution.Value(self.routing.NextVar(index))
            routes[tech.id] = visits
        planned = {visit.job_id for visits in routes.values() for visit in visits}
        return Plan(routes, [job.id for job in self.jobs if job.id not in planned], total)


class InfeasiblePlan(ValueError):
    """Pinned visits that cannot all be kept."""


def greedy(
    technicians: Sequence[Technician],
    jobs: Sequence[Job],
    *,
    matrix: Sequence[Sequence[int]] | None = None,
) -> Plan:
    """Nearest first: each technician in turn takes the nearest job they can reach
    in its window and finish within their shift, until nobody can take another."""
    points = [(t.lat, t.lon) for t in technicians] + [(j.lat, j.lon) for j in jobs]
    seconds = matrix or travel_matrix(points)
    n_tech = len(technicians)
    at = list(range(n_tech))  # each technician's current node
    clock = [tech.shift[0] for tech in technicians]
    open_jobs = set(range(len(jobs)))
    routes: dict[str, list[Visit]] = {tech.id: [] for tech in technicians}
    total = 0
    progress = True
    while open_jobs and progress:
        progress = False
        for v, tech in enumerate(technicians):
            best: tuple[int, int, int] | None = None  # (travel, job, arrival)
            for k in open_jobs:
                job = jobs[k]
                if not qualified(tech, job):
                    continue
                hop = seconds[at[v]][n_tech + k]
                arrive = max(clock[v] + hop, job.window[0])
                if arrive > job.window[1] or arrive + job.duration_s > tech.shift[1]:
                    continue
                if best is None or hop < best[0]:
                    best = (hop, k, arrive)
            if best is None:
                continue
            hop, k, arrive = best
            routes[tech.id].append(Visit(jobs[k].id, arrive, hop))
            total += hop
            at[v], clock[v] = n_tech + k, arrive + jobs[k].duration_s
            open_jobs.discard(k)
            progress = True
    return Plan(routes, [jobs[k].id for k in sorted(open_jobs)], total)
