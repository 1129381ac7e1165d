"""Mexican geography used by the generator: states, population weights, postal codes, phones."""

from __future__ import annotations

import numpy as np

#: ISO 3166-2:MX subdivision codes (without the ``MX-`` prefix) with the population counted by
#: the INEGI *Censo de Población y Vivienda 2020*. Weights are the census counts themselves so
#: that the state mix of the synthetic book mirrors where people actually live.
STATE_POPULATION_2020: dict[str, int] = {
    "AGU": 1_425_607,
    "BCN": 3_769_020,
    "BCS": 798_447,
    "CAM": 928_363,
    "CHP": 5_543_828,
    "CHH": 3_741_869,
    "CMX": 9_209_944,
    "COA": 3_146_771,
    "COL": 731_391,
    "DUR": 1_832_650,
    "GUA": 6_166_934,
    "GRO": 3_540_685,
    "HID": 3_082_841,
    "JAL": 8_348_151,
    "MEX": 16_992_418,
    "MIC": 4_748_846,
    "MOR": 1_971_520,
    "NAY": 1_235_456,
    "NLE": 5_784_442,
    "OAX": 4_132_148,
    "PUE": 6_583_278,
    "QUE": 2_368_467,
    "ROO": 1_857_985,
    "SLP": 2_822_255,
    "SIN": 3_026_943,
    "SON": 2_944_840,
    "TAB": 2_402_598,
    "TAM": 3_527_735,
    "TLA": 1_342_977,
    "VER": 8_062_579,
    "YUC": 2_320_898,
    "ZAC": 1_622_138,
}

STATES: tuple[str, ...] = tuple(STATE_POPULATION_2020)

#: First two digits of the postal codes (Código Postal, SEPOMEX) assigned to each state,
#: as inclusive ranges.
_POSTAL_PREFIXES: dict[str, tuple[int, int]] = {
    "AGU": (20, 20),
    "BCN": (21, 22),
    "BCS": (23, 23),
    "CAM": (24, 24),
    "CHP": (29, 30),
    "CHH": (31, 33),
    "CMX": (1, 16),
    "COA": (25, 27),
    "COL": (28, 28),
    "DUR": (34, 35),
    "GUA": (36, 38),
    "GRO": (39, 41),
    "HID": (42, 43),
    "JAL": (44, 49),
    "MEX": (50, 57),
    "MIC": (58, 61),
    "MOR": (62, 62),
    "NAY": (63, 63),
    "NLE": (64, 67),
    "OAX": (68, 71),
    "PUE": (72, 75),
    "QUE": (76, 76),
    "ROO": (77, 77),
    "SLP": (78, 79),
    "SIN": (80, 82),
    "SON": (83, 85),
    "TAB": (86, 86),
    "TAM": (87, 89),
    "TLA": (90, 90),
    "VER": (91, 96),
    "YUC": (97, 97),
    "ZAC": (98, 99),
}

#: Long-distance area code (LADA) of each state's main city; mobile numbers in Mexico keep the
#: LADA of the place they were issued, so it is the most recognisable part of a 10-digit phone.
_LADA: dict[str, int] = {
    "AGU": 449, "BCN": 664, "BCS": 612, "CAM": 981, "CHP": 961, "CHH": 614, "CMX": 55,
    "COA": 844, "COL": 312, "DUR": 618, "GUA": 477, "GRO": 744, "HID": 771, "JAL": 33,
    "MEX": 55, "MIC": 443, "MOR": 777, "NAY": 311, "NLE": 81, "OAX": 951, "PUE": 222,
    "QUE": 442, "ROO": 998, "SLP": 444, "SIN": 667, "SON": 662, "TAB": 993, "TAM": 899,
    "TLA": 246, "VER": 229, "YUC": 999, "ZAC": 492,
}  # fmt: skip

#: Additive shift of the latent risk score by state. Credit-bureau data show higher consumer
#: delinquency in the south-southeast and lower in the industrial north and Bajío.
_STATE_RISK: dict[str, float] = {
    "CHP": 0.20, "GRO": 0.20, "OAX": 0.18, "TAB": 0.15, "VER": 0.12, "CAM": 0.10,
    "MIC": 0.08, "QUE": -0.10, "NLE": -0.12, "COA": -0.10, "AGU": -0.10, "CHH": -0.06,
    "SON": -0.06, "JAL": -0.05,
}  # fmt: skip


def state_weights() -> np.ndarray:
    """Population shares of :data:`STATES`, summing to one."""
    pop = np.array([STATE_POPULATION_2020[s] for s in STATES], dtype=np.float64)
    return pop / pop.sum()


def state_risk_shift() -> np.ndarray:
    """Risk-score shift per state index."""
    return np.array([_STATE_RISK.get(s, 0.0) for s in STATES], dtype=np.float64)


def postal_codes(rng: np.random.Generator, state: np.ndarray) -> np.ndarray:
    """Random 5-digit postal codes (as integers) inside each state's SEPOMEX prefix range."""
    lo = np.array([_POSTAL_PREFIXES[s][0] for s in STATES], dtype=np.int64)
    hi = np.array([_POSTAL_PREFIXES[s][1] for s in STATES], dtype=np.int64)
    prefix = lo[state] + np.floor(rng.random(state.size) * (hi[state] - lo[state] + 1))
    # Settlement digits 000 are the main post office of a town; anything up to 999 exists.
    return prefix.astype(np.int64) * 1000 + rng.integers(0, 1000, state.size)


def phones(rng: np.random.Generator, state: np.ndarray) -> np.ndarray:
    """Random 10-digit phone numbers (as integers) starting with the state's LADA."""
    lada = np.array([_LADA[s] for s in STATES], dtype=np.int64)[state]
    rest_digits = np.where(lada < 100, 8, 7)
    scale = 10**rest_digits
    # Local numbers never start with 0 or 1, so draw the first local digit from 2..9.
    first = rng.integers(2, 10, state.size) * (scale // 10)
    rest = np.floor(rng.random(state.size) * (scale // 10)).astype(np.int64)
    return lada * scale + first + rest
