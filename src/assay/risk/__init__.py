"""Risk: calibrated estimates and the quantitative FAIR Monte Carlo engine (`fair.py`).

The modules here are pure (numpy, no I/O, no database); see docs/risk.md for the model.
"""
