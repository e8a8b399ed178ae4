"""Request and response bodies of the risk register API. Like `schemas.py`, every request model
rejects unknown fields, bounds every field and documents one example (the tenant-isolation test
sends it). The shapes are checked here; the meaning (a minimum above its maximum, a probability
above 1, an unknown control...) is checked by the service, which answers 422 naming the field
(`fair.lm: minimum (9) is above maximum (1)`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assay.api.pagination import Page
from assay.api.schemas import _request_config
from assay.risk.inputs import (
    MAX_ACTOR_CHARS,
    MAX_ASSETS,
    MAX_CONTROLS,
    MAX_OWNER_CHARS,
    MAX_REASON_CHARS,
    MAX_TEXT_CHARS,
    MAX_TITLE_CHARS,
)
from assay.risk.models import EffectTarget, RiskStatus, Treatment

Step = Annotated[int, Field(ge=1, le=5, description="1 (very low) to 5 (very high).")]
Number = Annotated[float, Field(allow_inf_nan=False)]
Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Notation = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        description="`MIN,MODE,MAX` (PERT), `VALUE`, `uniform:MIN,MAX`, `lognormal:LOW,HIGH`.",
    ),
]


class EstimateIn(BaseModel):
    """An estimate as a mapping: `pert` (min, mode, max, optional confidence λ), `lognormal`
    (low, high: the 5th and 95th percentiles), `uniform` (min, max) or `constant` (value)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["pert", "lognormal", "uniform", "constant"]
    min: Number | None = None
    mode: Number | None = None
    max: Number | None = None
    low: Number | None = None
    high: Number | None = None
    value: Number | None = None
    confidence: Number | None = None


Estimate = (
    Number | Notation | Annotated[list[Number], Field(min_length=1, max_length=3)] | EstimateIn
)


class FairIn(BaseModel):
    """FAIR estimates: `lm` and either `lef`, or `tef` with `vuln`; `slef` with `slm` adds
    secondary loss. Frequencies are per year, `vuln` and `slef` probabilities (0..1), magnitudes
    money. See docs/risk.md."""

    model_config = ConfigDict(extra="forbid")

    lef: Estimate | None = None
    tef: Estimate | None = None
    vuln: Estimate | None = None
    lm: Estimate | None = None
    slef: Estimate | None = None
    slm: Estimate | None = None


class ControlIn(BaseModel):
    """A catalog control reducing one factor of the risk by a fraction (min, most likely,
    max); credited in simulations by the control's answer in the latest assessment."""

    model_config = ConfigDict(extra="forbid")

    control: str = Field(
        min_length=3,
        max_length=130,
        description="FRAMEWORK:LABEL of an assessed control, e.g. `cis-controls-v8.1:4.1`.",
    )
    effect: EffectTarget = Field(
        description="tef (threat event frequency), vulnerability or lm (loss magnitude)."
    )
    min: Fraction
    mode: Fraction | None = Field(default=None, description="Default: halfway.")
    max: Fraction


AssetRef = (
    Annotated[int, Field(ge=1, le=2_147_483_647)]
    | Annotated[str, Field(min_length=1, max_length=MAX_TITLE_CHARS)]
)

EXAMPLE = {
    "title": "Ransomware encrypts the file server",
    "threat_actor": "Criminal group",
    "threat_event": "Phishes an operator, then encrypts the shares",
    "weakness": "Shares writable by every account",
    "owner": "it-operator@client-a.test",
    "treatment": "mitigate",
    "due_on": "2027-03-31",
    "inherent_likelihood": 4,
    "inherent_impact": 5,
    "residual_likelihood": 3,
    "residual_impact": 4,
    "fair": {"tef": "1,4,12", "vuln": "0.1,0.3,0.6", "lm": "20000,150000,2000000"},
    "tolerance": 500000,
    "controls": [
        {"control": "cis-controls-v8.1:1.1", "effect": "vulnerability", "min": 0.1, "max": 0.3}
    ],
}


class _RiskFields(BaseModel):
    threat_actor: str | None = Field(default=None, max_length=MAX_ACTOR_CHARS)
    threat_event: str | None = Field(default=None, max_length=MAX_TEXT_CHARS)
    weakness: str | None = Field(default=None, max_length=MAX_TEXT_CHARS)
    description: str | None = Field(default=None, max_length=MAX_TEXT_CHARS)
    owner: str | None = Field(
        default=None,
        max_length=MAX_OWNER_CHARS,
        description="A member's e-mail (linked to that user) or any name.",
    )
    treatment: Treatment | None = None
    status: RiskStatus | None = Field(
        default=None, description="Never `accepted`: that takes an acceptance."
    )
    due_on: date | None = None
    residual_likelihood: Step | None = None
    residual_impact: Step | None = None
    fair: FairIn | None = None
    tolerance: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = Field(
        default=None, description="Loss tolerance: simulations report P(annual loss > it)."
    )
    assets: list[AssetRef] | None = Field(
        default=None, max_length=MAX_ASSETS, description="Affected assets by id or name."
    )
    controls: list[ControlIn] | None = Field(default=None, max_length=MAX_CONTROLS)


class RiskCreate(_RiskFields):
    """A new risk of a client (its administrators and IT operators, its MSP's, or auditors of
    the client or granted to it)."""

    model_config = _request_config(EXAMPLE)

    title: str = Field(min_length=1, max_length=MAX_TITLE_CHARS)
    inherent_likelihood: Step
    inherent_impact: Step


class RiskPatch(_RiskFields):
    """Change a risk: only the fields sent; `null` clears an optional field, `assets` and
    `controls` replace the whole list. A risk leaves `accepted` by any other status."""

    model_config = _request_config({"status": "mitigating", "residual_likelihood": 2})

    title: str | None = Field(default=None, min_length=1, max_length=MAX_TITLE_CHARS)
    inherent_likelihood: Step | None = None
    inherent_impact: Step | None = None


class AcceptanceIn(BaseModel):
    """Accept a risk until `expires_on` (after today, at most three years ahead) for a reason.
    Only an executive of the client or an administrator of it or of its MSP."""

    model_config = _request_config(
        {"reason": "Cheaper to insure than to fix this year", "expires_on": "2027-06-30"}
    )

    reason: str = Field(min_length=1, max_length=MAX_REASON_CHARS)
    expires_on: date


def request_dict(body: BaseModel) -> dict[str, Any]:
    """The fields sent, for the service (which checks their meaning and names the field)."""
    data = body.model_dump(exclude_unset=True)
    fair = data.get("fair")
    if isinstance(fair, dict):
        data["fair"] = {
            name: {k: v for k, v in value.items() if v is not None}
            if isinstance(value, dict)
            else value
            for name, value in fair.items()
            if value is not None
        }
    if isinstance(data.get("controls"), list):
        data["controls"] = [
            {k: v for k, v in control.items() if v is not None} for control in data["controls"]
        ]
    return data


# --- responses -----------------------------------------------------------------------------


class LevelOut(BaseModel):
    likelihood: int
    likelihood_name: str
    impact: int
    impact_name: str
    level: int = Field(description="The matrix's risk level, 1 (very low) to 5 (very high).")
    level_name: str


class RiskOut(BaseModel):
    id: int
    organization: str = Field(description="Slug of the client owning the risk.")
    title: str
    threat_actor: str
    threat_event: str
    weakness: str
    description: str
    owner: str | None
    owner_is_user: bool
    treatment: Treatment | None
    status: RiskStatus
    due_on: date | None
    inherent: LevelOut
    residual: LevelOut | None
    fair: dict[str, dict[str, Any]] | None = Field(
        description="The FAIR estimates in stored form (factor -> estimate mapping)."
    )
    tolerance: float | None
    created_at: datetime
    updated_at: datetime


class AssetLink(BaseModel):
    id: int
    name: str


class ControlOut(BaseModel):
    id: int
    control: str
    framework: str
    label: str
    title: str
    effect: EffectTarget
    min: float
    mode: float
    max: float


class AcceptanceOut(BaseModel):
    id: int
    accepted_by: str
    reason: str
    expires_on: date
    created_at: datetime
    ended_at: datetime | None
    ended_reason: str | None = Field(description="expired, revoked or superseded.")


class RiskDetailOut(RiskOut):
    assets: list[AssetLink]
    controls: list[ControlOut]
    acceptances: list[AcceptanceOut] = Field(description="Newest first.")
    acceptance: AcceptanceOut | None = Field(description="The acceptance in force, if any.")


class LecPoint(BaseModel):
    loss: float
    prob_exceed: float


class Sensitivity(BaseModel):
    factor: str
    spearman: float


class SummaryOut(BaseModel):
    """Statistics of simulated annual losses (see docs/risk.md)."""

    iterations: int
    mean: float
    std: float
    min: float
    max: float
    p10: float
    p50: float
    p90: float
    p95: float
    p99: float
    prob_loss: float
    tolerance: float | None
    prob_exceed: float | None
    lec: list[LecPoint]


class ResultOut(SummaryOut):
    sensitivity: list[Sensitivity]


class CreditOut(ControlOut):
    assessment_id: int | None
    status: str | None
    state: str | None
    credit: float = Field(description="Share of the effect credited as it stands.")
    credit_if_verified: float
    basis: str


class Gap(BaseModel):
    mean: float = Field(description="Mean annual loss as it stands minus with claims verified.")
    p90: float


class SimulationOut(BaseModel):
    risk: int
    organization: str
    mode: str
    iterations: int
    seed: int
    risk_seed: int
    claimed_credit: float
    tolerance: float | None
    controls: list[CreditOut]
    inherent: ResultOut
    residual: ResultOut
    residual_if_verified: ResultOut
    verification_gap: Gap


class Figures(BaseModel):
    mean: float
    p90: float


class ClientOut(Figures):
    organization: str
    name: str
    risks: int
    unquantified: int
    if_verified: Figures


class RiskMean(BaseModel):
    id: int
    title: str
    organization: str
    mean: float
    mean_if_verified: float


class PortfolioOut(BaseModel):
    organization: str
    kind: str
    mode: str
    iterations: int
    seed: int
    claimed_credit: float
    risks: int = Field(description="Quantified risks summed (open, mitigating, accepted).")
    unquantified: int = Field(description="Carried risks without FAIR estimates (left out).")
    residual: SummaryOut
    residual_if_verified: SummaryOut
    verification_gap: Gap
    clients: list[ClientOut] = Field(
        description="An MSP's clients (empty for a client): one line per client, all of them."
    )
    risk_means: Page[RiskMean] = Field(
        description="One page (`limit`, `offset`) of the summed risks' mean annual losses, by "
        "client and risk id; `total` counts every summed risk."
    )


class StepOut(BaseModel):
    value: int
    name: str
    description: str


class MatrixLevel(BaseModel):
    value: int
    name: str
    colour: str


class HeatMapOut(BaseModel):
    """Active risks (not closed or avoided) per cell: `inherent[l - 1][i - 1]` for likelihood
    l and impact i; `residual` counts the risks that have residual levels."""

    matrix: str
    likelihood: list[StepOut]
    impact: list[StepOut]
    levels: list[MatrixLevel]
    grid: list[list[str]]
    inherent: list[list[int]]
    residual: list[list[int]]
