"""Assessments: answers, evidence, independent verification, scores, gaps and blind spots."""
