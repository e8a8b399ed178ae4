"""Reports: charts now; executive and auditor reports later."""
