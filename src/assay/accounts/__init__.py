"""Accounts: users, passwords, web sessions, login throttling and personal API tokens."""
