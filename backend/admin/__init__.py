"""Administration: programmes, structures, units, observers, tablets, accounts, demo data, backups."""
