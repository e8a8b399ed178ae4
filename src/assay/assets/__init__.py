"""The asset register: each client's hosts, applications, cloud accounts, network devices, data
stores and SaaS, with the identifiers (hostnames, addresses, cloud ids) that name them."""
