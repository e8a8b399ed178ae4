"""Imports every model module so that `Base.metadata` knows all tables (for Alembic and tests)."""

from assay.accounts import models as accounts_models
from assay.assess import models as assess_models
from assay.assets import models as assets_models
from assay.audit import models as audit_models
from assay.auditlog import models as auditlog_models
from assay.catalog import models as catalog_models
from assay.db.base import Base
from assay.risk import models as risk_models
from assay.tenancy import models as tenancy_models

__all__ = [
    "Base",
    "accounts_models",
    "assess_models",
    "assets_models",
    "audit_models",
    "auditlog_models",
    "catalog_models",
    "risk_models",
    "tenancy_models",
]
