"""Demo risk registers for `assay demo`: a few risks per demo client with FAIR estimates and
controls of their CIS assessment, made through the service by the people who would make them
(the MSP's operator, Sentinel's auditor proposing one), and one accepted by Contoso's
executive. A client that has risks already is left alone, so running the demo again adds
nothing."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.accounts.models import User
from assay.auth.actor import Actor, Via
from assay.risk.models import Risk
from assay.risk.service import accept_risk, create_risk
from assay.tenancy.access import actor_in, org_by_slug

OPERATOR = "ops@northwind.example"
AUDITOR = "auditor@sentinel.example"
EXECUTIVE = "ceo@contoso.example"
CIS = "cis-controls-v8.1"


def _control(label: str, effect: str, low: float, mode: float, high: float) -> str:
    return f"{CIS}:{label}:{effect}:{low},{mode},{high}"


# (who creates it, the risk's fields); the register of each demo client
DEMO_RISKS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "contoso-dental": [
        (
            OPERATOR,
            {
                "title": "Ransomware stops the practice management system",
                "threat_actor": "Criminal ransomware group",
                "threat_event": "Phishes a receptionist, spreads to the server, encrypts the "
                "patient database and its backups",
                "weakness": "Shared local administrator password; backups on a mapped drive",
                "owner": OPERATOR,
                "treatment": "mitigate",
                "status": "mitigating",
                "inherent_likelihood": "high",
                "inherent_impact": "very high",
                "residual_likelihood": "moderate",
                "residual_impact": "high",
                "assets": ["pms-db"],
                "fair": {
                    "tef": "0.5,2,6",
                    "vuln": "0.1,0.3,0.6",
                    "lm": {"kind": "lognormal", "low": 40_000, "high": 900_000},
                    "slef": "0.2,0.4,0.7",
                    "slm": "20000,80000,600000",
                },
                "tolerance": 250_000,
                "controls": [
                    _control("10.1", "vulnerability", 0.2, 0.4, 0.6),
                    _control("14.2", "tef", 0.1, 0.3, 0.5),
                    _control("11.4", "lm", 0.3, 0.5, 0.7),
                    _control("5.2", "vulnerability", 0.05, 0.15, 0.3),
                ],
            },
        ),
        (
            AUDITOR,
            {
                "title": "Patient portal account takeover",
                "threat_actor": "Opportunistic attackers",
                "threat_event": "Replay leaked passwords against the patient portal",
                "weakness": "No multi-factor authentication on the portal",
                "treatment": "mitigate",
                "inherent_likelihood": "high",
                "inherent_impact": "moderate",
                "assets": ["web1", "web2"],
                "fair": {"tef": "2,8,30", "vuln": "0.02,0.05,0.15", "lm": "2000,15000,120000"},
                "controls": [
                    _control("6.3", "vulnerability", 0.5, 0.8, 0.95),
                    _control("7.4", "vulnerability", 0.05, 0.1, 0.2),
                ],
            },
        ),
        (
            OPERATOR,
            {
                "title": "Imaging workstation runs an unsupported operating system",
                "threat_actor": "Malware",
                "threat_event": "Exploits an unpatched flaw on the X-ray workstation",
                "weakness": "The imaging vendor supports only an old Windows release",
                "treatment": "accept",
                "inherent_likelihood": "moderate",
                "inherent_impact": "moderate",
                "fair": {"lef": "0.05,0.2,0.5", "lm": "5000,20000,80000"},
                "controls": [_control("4.5", "vulnerability", 0.2, 0.4, 0.6)],
            },
        ),
    ],
    "fabrikam-logistics": [
        (
            OPERATOR,
            {
                "title": "Transport management system outage",
                "threat_actor": "Criminal ransomware group",
                "threat_event": "Encrypts the TMS database during peak season",
                "weakness": "Backups are never restored in a test",
                "owner": "Head of operations",
                "treatment": "mitigate",
                "due_on": (date.today() + timedelta(days=120)).isoformat(),
                "inherent_likelihood": "moderate",
                "inherent_impact": "very high",
                "assets": ["tms-app", "tms-db"],
                "fair": {
                    "tef": "0.3,1,4",
                    "vuln": "0.1,0.25,0.5",
                    "lm": {"kind": "lognormal", "low": 50_000, "high": 1_500_000},
                },
                "tolerance": 500_000,
                "controls": [
                    _control("11.2", "lm", 0.2, 0.4, 0.6),
                    _control("11.1", "lm", 0.1, 0.2, 0.4),
                    _control("7.3", "vulnerability", 0.1, 0.3, 0.5),
                ],
            },
        ),
        (
            OPERATOR,
            {
                "title": "Invoice fraud through a spoofed supplier e-mail",
                "threat_actor": "Business e-mail compromise fraudsters",
                "threat_event": "Convince accounts payable to change a supplier's bank details",
                "weakness": "Bank detail changes are confirmed by e-mail only",
                "treatment": "mitigate",
                "inherent_likelihood": "high",
                "inherent_impact": "high",
                "fair": {"tef": "2,6,12", "vuln": "0.01,0.05,0.1", "lm": "5000,40000,250000"},
                "controls": [
                    _control("14.2", "vulnerability", 0.2, 0.4, 0.6),
                    _control("9.2", "tef", 0.05, 0.15, 0.3),
                ],
            },
        ),
    ],
}
ACCEPTED = ("contoso-dental", "Imaging workstation runs an unsupported operating system")


def _actor(session: Session, email: str, slug: str, via: Via) -> Actor:
    user = session.scalar(select(User).where(User.email == email))
    assert user is not None, email
    return actor_in(session, user.id, user.email, via, slug)


def seed_risks(session: Session, via: Via = Via.CLI) -> list[str]:
    """A risk register for each demo client that has none yet; one line per register."""
    lines: list[str] = []
    for slug, risks in DEMO_RISKS.items():
        org = org_by_slug(session, slug)
        if session.scalar(select(Risk.id).where(Risk.organization_id == org.id).limit(1)):
            continue
        for email, fields in risks:
            risk = create_risk(session, _actor(session, email, slug, via), slug, fields)
            if (slug, risk.title) == ACCEPTED:
                accept_risk(
                    session,
                    _actor(session, EXECUTIVE, slug, via),
                    risk.id,
                    "The vendor replaces the workstation next spring; it is off the internet "
                    "and the loss is small.",
                    (date.today() + timedelta(days=180)).isoformat(),
                )
        lines.append(f"{slug}: {len(risks)} risks in the register")
    return lines
