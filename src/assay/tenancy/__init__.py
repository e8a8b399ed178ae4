"""Tenancy: organizations (MSP, client, auditor firm), memberships and auditor access grants."""
