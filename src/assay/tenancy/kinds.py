"""Kinds of organization and roles of members: plain enumerations, free of the database layer,
so that code which only needs the words (the acting identity, the CLI) loads fast."""

from __future__ import annotations

import enum


class OrgKind(enum.StrEnum):
    MSP = "msp"
    CLIENT = "client"
    AUDITOR = "auditor"


class Role(enum.StrEnum):
    ADMIN = "admin"
    IT_OPERATOR = "it_operator"
    AUDITOR = "auditor"
    EXECUTIVE = "executive"
