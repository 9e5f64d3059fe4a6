"""METRC finished-goods packages: storage, commitments, audit log and Apex unit counts."""
