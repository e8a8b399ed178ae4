"""Risk: calibrated estimates, the FAIR Monte Carlo engine (`fair.py`), portfolios
(`portfolio.py`) and the qualitative matrix (`matrix.py`), all pure; and each client's risk
register on the database (`models.py`, `service.py`, `credit.py`, `analysis.py`).

See docs/risk.md for the model.
"""
